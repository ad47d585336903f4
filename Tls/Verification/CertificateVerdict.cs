namespace Apps.Tls.Verification;

/// <summary>Why a server certificate chain was not accepted; <see cref="None"/> when it was.</summary>
public enum VerificationFailure
{
    None = 0,
    /// <summary>The certificate bytes could not be parsed, or a field is malformed.</summary>
    Malformed,
    /// <summary>No path leads from the peer's certificate to a trust anchor.</summary>
    UnknownIssuer,
    /// <summary>A signature on the path does not verify.</summary>
    BadSignature,
    /// <summary>A certificate on the path is past its notAfter.</summary>
    Expired,
    /// <summary>A certificate on the path is before its notBefore.</summary>
    NotYetValid,
    /// <summary>An issuer lacks basicConstraints cA=TRUE.</summary>
    NotACa,
    /// <summary>A pathLenConstraint (or the verifier's depth limit) is exceeded.</summary>
    PathTooLong,
    /// <summary>keyUsage forbids the use (keyCertSign on issuers, digitalSignature on the leaf).</summary>
    KeyUsage,
    /// <summary>extendedKeyUsage lacks serverAuth.</summary>
    ExtendedKeyUsage,
    /// <summary>A name in the leaf violates a permitted or excluded subtree of an issuer.</summary>
    NameConstraintViolation,
    /// <summary>The leaf is not valid for the requested host name or IP address.</summary>
    NameMismatch,
    /// <summary>An unrecognised extension is marked critical.</summary>
    UnknownCriticalExtension,
    /// <summary>The same extension appears twice in one certificate.</summary>
    DuplicateExtension,
    /// <summary>A key is too weak (RSA under 2048 bits, EC curves under P-256).</summary>
    WeakKey,
    /// <summary>A signature uses a broken algorithm (MD5, SHA-1).</summary>
    WeakSignatureAlgorithm,
    /// <summary>
    /// Path building or name-constraint checking ran past the verifier's work limits
    /// (too many certificates, candidates, signatures or name comparisons): a denial-of-service guard.
    /// </summary>
    TooComplex,
    /// <summary>The server's own certificate is a CA certificate (basicConstraints cA=TRUE).</summary>
    LeafIsCa,
    /// <summary>A certificate on the path is listed on a revocation list its issuer signed.</summary>
    Revoked,
}

/// <summary>What the leaf certificate must be good for (RFC 5280 §4.2.1.12).</summary>
public enum KeyPurpose
{
    /// <summary>id-kp-serverAuth: a TLS server.</summary>
    ServerAuth,
    /// <summary>id-kp-clientAuth: a TLS client.</summary>
    ClientAuth,
}

/// <summary>
/// The outcome of verifying a server's certificate chain: one precise reason and a
/// sentence for people, plus the chain that was verified (leaf first, anchor last).
/// </summary>
public sealed record CertificateVerdict(
    VerificationFailure Failure,
    string Message,
    IReadOnlyList<byte[]> VerifiedChain)
{
    /// <summary>True when the chain verified and the name matched.</summary>
    public bool IsVerified => Failure == VerificationFailure.None;
}

/// <summary>Verifies a server's certificate chain for a name at a given time.</summary>
public interface IServerCertificateVerifier
{
    /// <param name="peerChain">DER certificates as the peer sent them, leaf first.</param>
    /// <param name="serverName">The DNS name or IP literal the client asked for.</param>
    /// <param name="now">The time to validate against (injected, never read here).</param>
    CertificateVerdict Verify(IReadOnlyList<byte[]> peerChain, string serverName, DateTimeOffset now);
}
