using Apps.Tls.Verification;

namespace Apps.Tls.Engine;

/// <summary>What the client does with a server certificate: go on, or abort with an alert.</summary>
public readonly record struct CertificateDecision(bool Accept, TlsAlertDescription Alert)
{
    public static CertificateDecision Accepted => new(true, TlsAlertDescription.CloseNotify);

    public static CertificateDecision Abort(TlsAlertDescription alert) => new(false, alert);

    /// <summary>The strict default: accept only a verified chain, otherwise abort with the alert the verdict calls for.</summary>
    public static CertificateDecision Strict(IReadOnlyList<byte[]> peerChain, CertificateVerdict verdict) =>
        verdict.IsVerified ? Accepted : Abort(AlertFor(verdict.Failure));

    /// <summary>The alert RFC 8446 §6.2 names for each verification failure.</summary>
    public static TlsAlertDescription AlertFor(VerificationFailure failure) => failure switch
    {
        VerificationFailure.None => TlsAlertDescription.CloseNotify,
        VerificationFailure.Expired or VerificationFailure.NotYetValid => TlsAlertDescription.CertificateExpired,
        VerificationFailure.UnknownIssuer => TlsAlertDescription.UnknownCa,
        VerificationFailure.Malformed => TlsAlertDescription.BadCertificate,
        VerificationFailure.WeakKey or VerificationFailure.WeakSignatureAlgorithm
            or VerificationFailure.UnknownCriticalExtension => TlsAlertDescription.UnsupportedCertificate,
        _ => TlsAlertDescription.BadCertificate,
    };
}

/// <summary>
/// Called on the client once the server's certificate arrived and was verified; decides whether the handshake
/// goes on. The trust-on-first-use store plugs in here.
/// </summary>
/// <param name="peerChain">The server's certificates as DER, leaf first.</param>
/// <param name="verdict">What the <see cref="IServerCertificateVerifier"/> concluded.</param>
public delegate CertificateDecision ServerCertificateDecider(IReadOnlyList<byte[]> peerChain, CertificateVerdict verdict);
