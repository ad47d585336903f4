namespace Apps.Tls.Verification;

/// <summary>
/// The TLS alert a client sends when it refuses the server's certificate
/// (<see href="https://www.rfc-editor.org/rfc/rfc8446#section-6.2">RFC 8446 §6.2</see>), following
/// the choices rustls makes for the same errors.
/// </summary>
public static class CertificateAlert
{
    /// <summary>bad_certificate (42).</summary>
    public const byte BadCertificate = 42;
    /// <summary>unsupported_certificate (43).</summary>
    public const byte UnsupportedCertificate = 43;
    /// <summary>certificate_revoked (44).</summary>
    public const byte CertificateRevoked = 44;
    /// <summary>certificate_expired (45).</summary>
    public const byte CertificateExpired = 45;
    /// <summary>certificate_unknown (46).</summary>
    public const byte CertificateUnknown = 46;
    /// <summary>unknown_ca (48).</summary>
    public const byte UnknownCa = 48;
    /// <summary>decrypt_error (51): a signature did not verify.</summary>
    public const byte DecryptError = 51;

    /// <summary>The alert description for a refused certificate; throws for <see cref="VerificationFailure.None"/>.</summary>
    public static byte For(VerificationFailure failure) => failure switch
    {
        VerificationFailure.None => throw new ArgumentException("a verified certificate needs no alert", nameof(failure)),
        VerificationFailure.UnknownIssuer => UnknownCa,
        VerificationFailure.Expired or VerificationFailure.NotYetValid => CertificateExpired,
        VerificationFailure.Revoked => CertificateRevoked,
        VerificationFailure.BadSignature => DecryptError,
        VerificationFailure.KeyUsage or VerificationFailure.ExtendedKeyUsage or VerificationFailure.UnknownCriticalExtension
            or VerificationFailure.WeakKey or VerificationFailure.WeakSignatureAlgorithm => UnsupportedCertificate,
        VerificationFailure.TooComplex => CertificateUnknown,
        _ => BadCertificate,
    };
}
