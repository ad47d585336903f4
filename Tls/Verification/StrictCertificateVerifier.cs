// The default verifier: our own RFC 5280 path validation on BouncyCastle's ASN.1 parsing, then
// RFC 6125 host matching. Order of checks, so that the reported reason is the most useful one:
// parse the leaf → the leaf's own rules (validity, usages, names) → build and validate a path to an
// anchor → match the requested name. Nothing here reads the clock or does I/O: `now` is a parameter.
namespace Apps.Tls.Verification;

/// <summary>A request for <see cref="StrictCertificateVerifier.Verify(VerificationRequest)"/>.</summary>
/// <param name="PeerChain">DER certificates as the peer sent them: leaf first, the rest in any order.</param>
/// <param name="Name">The name the leaf must be valid for; null checks the chain only.</param>
/// <param name="Now">The time to validate at.</param>
public sealed record VerificationRequest(IReadOnlyList<byte[]> PeerChain, PeerName? Name, DateTimeOffset Now)
{
    /// <summary>What the leaf must be good for; TLS servers by default.</summary>
    public KeyPurpose Purpose { get; init; } = KeyPurpose.ServerAuth;

    /// <summary>Overrides <see cref="VerificationLimits.MaxIntermediates"/> for this request when set lower.</summary>
    public int? MaxIntermediates { get; init; }

    /// <summary>
    /// DER CRLs the caller already has (never fetched here); each applies to the certificates its
    /// issuer signed. See RevocationList.cs for what is and is not checked.
    /// </summary>
    public IReadOnlyList<byte[]> RevocationLists { get; init; } = [];
}

/// <summary>
/// Strict certificate verification: a path to a trust anchor per
/// <see href="https://www.rfc-editor.org/rfc/rfc5280#section-6">RFC 5280 §6</see> with the Web PKI's
/// tightenings, and host matching per <see href="https://www.rfc-editor.org/rfc/rfc6125#section-6">RFC 6125 §6</see>.
/// Thread-safe: it holds only immutable configuration.
/// </summary>
public sealed class StrictCertificateVerifier : IServerCertificateVerifier
{
    private static readonly System.Diagnostics.Metrics.Counter<long> Verdicts = TlsTelemetry.Meter.CreateCounter<long>(
        "apps.tls.certificate.verdicts", description: "Certificate verifications, tagged by failure (None when verified)");

    private readonly TrustAnchors _anchors;
    private readonly VerificationLimits _limits;

    /// <summary>Verifies against <paramref name="anchors"/> within <paramref name="limits"/> (defaults if null).</summary>
    public StrictCertificateVerifier(TrustAnchors anchors, VerificationLimits? limits = null)
    {
        _anchors = anchors;
        _limits = limits ?? new VerificationLimits();
    }

    /// <summary>
    /// A verifier over the system roots, read once now through the I/O shell
    /// <see cref="Storage.SystemTrustStore"/> (kept here because Conduit builds on it).
    /// </summary>
    public static StrictCertificateVerifier WithSystemRoots(VerificationLimits? limits = null) =>
        Storage.SystemTrustStore.CreateVerifier(limits);

    /// <inheritdoc />
    public CertificateVerdict Verify(IReadOnlyList<byte[]> peerChain, string serverName, DateTimeOffset now)
    {
        if (!PeerName.TryParse(serverName, out var name, out var error))
            return Fail(new Rejection(VerificationFailure.NameMismatch, $"cannot check the certificate: {error}"));
        return Verify(new VerificationRequest(peerChain, name, now));
    }

    /// <summary>Verifies with every option spelled out.</summary>
    public CertificateVerdict Verify(VerificationRequest request)
    {
        using var activity = TlsTelemetry.Source.StartActivity("verify certificate");
        var verdict = VerifyCatching(request);
        Verdicts.Add(1, new KeyValuePair<string, object?>("failure", verdict.Failure.ToString()));
        activity?.SetTag("failure", verdict.Failure.ToString());
        return verdict;
    }

    private CertificateVerdict VerifyCatching(VerificationRequest request)
    {
        try
        {
            return VerifyChecked(request);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Defence in depth: a parser surprise on hostile input is a refusal, never a crash.
            return Fail(new Rejection(VerificationFailure.Malformed, "the server's certificates could not be read: " + e.Message));
        }
    }

    private CertificateVerdict VerifyChecked(VerificationRequest request)
    {
        var chain = request.PeerChain;
        if (chain.Count == 0)
            return Fail(new Rejection(VerificationFailure.Malformed, "the server sent no certificate"));
        if (chain.Count > _limits.MaxPeerCertificates)
            return Fail(new Rejection(VerificationFailure.TooComplex,
                $"the server sent {chain.Count} certificates; at most {_limits.MaxPeerCertificates} are considered"));

        ParsedCertificate leaf;
        try
        {
            leaf = ParsedCertificate.Parse(chain[0]);
        }
        catch (CertificateFormatException e)
        {
            return Fail(new Rejection(e.Failure, "the server's certificate " + e.Message));
        }

        // RFC 5280 §4.1.2.5 encodes whole seconds: compare at that granularity (x509-limbo
        // rfc5280::validity::notafter-fractional / notbefore-fractional).
        var now = request.Now.UtcDateTime;
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerSecond));

        if (CertificateProfile.CheckEndEntity(leaf, request.Purpose, now) is { } leafProblem)
            return Fail(leafProblem);

        var intermediates = new List<ParsedCertificate>(chain.Count - 1);
        for (var i = 1; i < chain.Count; i++)
        {
            try
            {
                intermediates.Add(ParsedCertificate.Parse(chain[i]));
            }
            catch (CertificateFormatException)
            {
                // An unparseable extra certificate cannot be on any path; the search simply does without it.
            }
        }

        if (request.RevocationLists.Count > _limits.MaxRevocationLists)
            return Fail(new Rejection(VerificationFailure.TooComplex,
                $"{request.RevocationLists.Count} revocation lists were given; at most {_limits.MaxRevocationLists} are considered"));
        var crls = new List<RevocationList>(request.RevocationLists.Count);
        for (var i = 0; i < request.RevocationLists.Count; i++)
        {
            try
            {
                crls.Add(RevocationList.Parse(request.RevocationLists[i]));
            }
            catch (CertificateFormatException e)
            {
                return Fail(new Rejection(e.Failure, $"revocation list {i + 1} {e.Message}; fix or remove it"));
            }
        }

        var maxIntermediates = Math.Min(_limits.MaxIntermediates, request.MaxIntermediates ?? int.MaxValue);
        var builder = new ChainBuilder(_anchors, intermediates, crls, _limits, maxIntermediates, request.Purpose, now,
            new WorkBudget(_limits));
        var (path, failure) = builder.Build(leaf);
        if (path is null)
            return Fail(failure!);

        if (request.Name is { } name && HostNameMatcher.Check(leaf, name) is { } mismatch)
            return Fail(mismatch);

        var verified = path.Select(c => c.Der).ToList();
        return new CertificateVerdict(VerificationFailure.None,
            $"certificate for {HostNameMatcher.Describe(leaf)} verified through '{path[^1].SubjectText}'", verified);
    }

    private static CertificateVerdict Fail(Rejection rejection) =>
        new(rejection.Failure, CertificateProfile.Printable(rejection.Message, 400), []);
}
