namespace Apps.Tls.Engine;

/// <summary>Alert severity (<see href="https://www.rfc-editor.org/rfc/rfc8446#section-6">RFC 8446 §6</see>).</summary>
public enum TlsAlertLevel : byte
{
    Warning = 1,
    Fatal = 2,
}

/// <summary>Alert descriptions from <see href="https://www.rfc-editor.org/rfc/rfc8446#section-6">RFC 8446 §6</see>
/// (plus no_renegotiation from RFC 5246 §7.2.2, which TLS 1.2 peers still send).</summary>
public enum TlsAlertDescription : byte
{
    CloseNotify = 0,
    UnexpectedMessage = 10,
    BadRecordMac = 20,
    RecordOverflow = 22,
    HandshakeFailure = 40,
    BadCertificate = 42,
    UnsupportedCertificate = 43,
    CertificateRevoked = 44,
    CertificateExpired = 45,
    CertificateUnknown = 46,
    IllegalParameter = 47,
    UnknownCa = 48,
    AccessDenied = 49,
    DecodeError = 50,
    DecryptError = 51,
    ProtocolVersion = 70,
    InsufficientSecurity = 71,
    InternalError = 80,
    InappropriateFallback = 86,
    UserCanceled = 90,
    NoRenegotiation = 100,
    MissingExtension = 109,
    UnsupportedExtension = 110,
    UnrecognizedName = 112,
    BadCertificateStatusResponse = 113,
    UnknownPskIdentity = 115,
    CertificateRequired = 116,
    NoApplicationProtocol = 120,
}

/// <summary>One alert as sent or received.</summary>
public readonly record struct TlsAlert(TlsAlertLevel Level, TlsAlertDescription Description)
{
    /// <summary>The RFC's name for the description, e.g. <c>bad_certificate(42)</c>.</summary>
    public override string ToString() =>
        $"{Org.BouncyCastle.Tls.AlertDescription.GetName((short)Description)}({(byte)Description})";
}
