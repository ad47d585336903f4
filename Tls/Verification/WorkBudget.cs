// Path building is a search over a graph the peer controls: certificates with equal names, shared
// keys and cycles can make the number of paths explode (x509-limbo pathological::*, Go's
// TestPathologicalChains). Every verification gets one budget; when any part runs out the verdict
// is TooComplex, never a hang.
namespace Apps.Tls.Verification;

internal sealed class WorkBudget(VerificationLimits limits)
{
    internal enum Kind { Signature, Candidate, NameComparison }

    private int _signatures;
    private int _candidates;
    private long _nameComparisons;
    private Kind? _exhausted;

    public bool IsExhausted => _exhausted is not null;

    /// <summary>Charges <paramref name="amount"/> units; false (and exhausted for good) when the limit is passed.</summary>
    public bool TryCharge(Kind kind, long amount = 1)
    {
        if (_exhausted is not null)
            return false;
        var within = kind switch
        {
            Kind.Signature => ++_signatures <= limits.MaxSignatureChecks,
            Kind.Candidate => ++_candidates <= limits.MaxCandidates,
            _ => (_nameComparisons += amount) <= limits.MaxNameComparisons,
        };
        if (!within)
            _exhausted = kind;
        return within;
    }

    public Rejection Exhausted() => new(VerificationFailure.TooComplex, _exhausted switch
    {
        Kind.Signature => $"gave up after {limits.MaxSignatureChecks} signature checks while building a path; the server sends too many candidate certificates",
        Kind.Candidate => $"gave up after examining {limits.MaxCandidates} candidate issuers; the certificate graph is too tangled",
        _ => $"gave up after {limits.MaxNameComparisons} name-constraint comparisons; the certificates carry too many names or constraints",
    });
}
