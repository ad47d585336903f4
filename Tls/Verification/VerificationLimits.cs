namespace Apps.Tls.Verification;

/// <summary>
/// Bounds on the work one verification may do; the defaults are well above real Web PKI chains
/// and well below what makes a hostile chain expensive. See design.md, "Threats".
/// </summary>
public sealed record VerificationLimits
{
    /// <summary>At most this many certificates from the peer (leaf included) are considered at all.</summary>
    public int MaxPeerCertificates { get; init; } = 32;

    /// <summary>Intermediates between leaf and anchor, not counting self-issued ones (RFC 5280 §6.1.4 (l)).</summary>
    public int MaxIntermediates { get; init; } = 6;

    /// <summary>Certificates on one path including self-issued ones and the anchor.</summary>
    public int MaxPathLength { get; init; } = 10;

    /// <summary>Signature verifications per verification (each is a public-key operation).</summary>
    public int MaxSignatureChecks { get; init; } = 100;

    /// <summary>Candidate issuers examined per verification, over all paths tried.</summary>
    public int MaxCandidates { get; init; } = 2048;

    /// <summary>Revocation lists a caller may pass with one request.</summary>
    public int MaxRevocationLists { get; init; } = 16;

    /// <summary>Name-versus-constraint comparisons per verification.</summary>
    public long MaxNameComparisons { get; init; } = 1 << 17;
}
