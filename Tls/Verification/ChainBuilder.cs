// Read this first: RFC 5280 §6.1 (path validation) and RFC 4158 (path building).
// Depth-first search from the leaf towards the trust anchors. At each step the candidates are the
// anchors, then the peer's other certificates, whose subject equals the child's issuer byte for
// byte; those whose subjectKeyIdentifier matches the child's authorityKeyIdentifier go first (a
// hint only, RFC 5280 §4.2.1.1). Each link is validated as it is added (CA rules, pathLen,
// signature, name constraints), so a failing branch is abandoned early and the next alternative is
// tried. Invariants: no (subject, key) pair appears twice on a path (RFC 4158 §2.4, breaks cycles);
// all work is charged to one WorkBudget; the most informative failure (the deepest) is reported.
namespace Apps.Tls.Verification;

internal sealed class ChainBuilder
{
    private readonly TrustAnchors _anchors;
    private readonly IReadOnlyList<RevocationList> _crls;
    private readonly Dictionary<string, List<ParsedCertificate>> _intermediatesBySubject = new(StringComparer.Ordinal);
    private readonly VerificationLimits _limits;
    private readonly int _maxIntermediates;
    private readonly KeyPurpose _purpose;
    private readonly DateTime _now;
    private readonly WorkBudget _budget;
    private readonly Dictionary<(string Child, string Issuer), bool> _signatures = [];
    private readonly Dictionary<(string Cert, bool Anchor), Rejection?> _issuerChecks = [];
    private readonly List<ParsedCertificate> _path = [];
    private readonly HashSet<string> _onPath = new(StringComparer.Ordinal);
    private Rejection? _best;
    private int _bestDepth = -1;

    public ChainBuilder(TrustAnchors anchors, IEnumerable<ParsedCertificate> intermediates, IReadOnlyList<RevocationList> crls,
        VerificationLimits limits, int maxIntermediates, KeyPurpose purpose, DateTime now, WorkBudget budget)
    {
        _anchors = anchors;
        _crls = crls;
        _limits = limits;
        _maxIntermediates = maxIntermediates;
        _purpose = purpose;
        _now = now;
        _budget = budget;
        foreach (var cert in intermediates)
        {
            var key = Convert.ToHexString(cert.SubjectDer);
            if (!_intermediatesBySubject.TryGetValue(key, out var list))
                _intermediatesBySubject[key] = list = [];
            if (!list.Exists(c => c.Fingerprint == cert.Fingerprint))
                list.Add(cert);
        }
    }

    /// <summary>Finds a valid path leaf → anchor; on failure returns the best reason found.</summary>
    public (IReadOnlyList<ParsedCertificate>? Path, Rejection? Failure) Build(ParsedCertificate leaf)
    {
        _path.Add(leaf);
        _onPath.Add(leaf.Identity);
        if (Extend())
            return (_path.ToList(), null);
        if (_budget.IsExhausted)
            return (null, _budget.Exhausted());
        return (null, _best ?? Untrusted(leaf));
    }

    private bool Extend()
    {
        var child = _path[^1];
        var found = false;
        foreach (var (candidate, isAnchor) in Candidates(child))
        {
            if (!_budget.TryCharge(WorkBudget.Kind.Candidate))
                return false;
            if (_onPath.Contains(candidate.Identity))
                continue;
            found = true;
            var rejection = CheckLink(child, candidate, isAnchor);
            if (_budget.IsExhausted)
                return false;
            if (rejection is not null)
            {
                Record(rejection, _path.Count + 1);
                continue;
            }
            _path.Add(candidate);
            if (isAnchor)
                return true;
            _onPath.Add(candidate.Identity);
            if (Extend())
                return true;
            _onPath.Remove(candidate.Identity);
            _path.RemoveAt(_path.Count - 1);
            if (_budget.IsExhausted)
                return false;
        }
        if (!found)
            Record(Untrusted(child), _path.Count);
        return false;
    }

    private IEnumerable<(ParsedCertificate, bool)> Candidates(ParsedCertificate child)
    {
        var anchors = _anchors.WithSubject(child.IssuerDer);
        foreach (var anchor in KeyIdentifierMatchesFirst(child, anchors))
            yield return (anchor, true);
        if (!_intermediatesBySubject.TryGetValue(Convert.ToHexString(child.IssuerDer), out var intermediates))
            yield break;
        foreach (var cert in KeyIdentifierMatchesFirst(child, intermediates))
        {
            if (!_anchors.Contains(cert))
                yield return (cert, false);
        }
    }

    private static IEnumerable<ParsedCertificate> KeyIdentifierMatchesFirst(ParsedCertificate child, IReadOnlyList<ParsedCertificate> candidates)
    {
        if (child.AuthorityKeyIdentifier is not { } aki)
            return candidates;
        return candidates.OrderBy(c => c.SubjectKeyIdentifier is { } ski && ski.AsSpan().SequenceEqual(aki) ? 0 : 1);
    }

    private Rejection? CheckLink(ParsedCertificate child, ParsedCertificate issuer, bool isAnchor)
    {
        var position = _path.Count; // index the issuer would take
        // Self-issued intermediates do not count towards depth or pathLen (RFC 5280 §6.1.4 (l)).
        var intermediatesBelow = 0;
        for (var i = 1; i < _path.Count; i++)
        {
            if (!_path[i].IsSelfIssued)
                intermediatesBelow++;
        }
        var intermediatesOnPath = intermediatesBelow + (isAnchor || issuer.IsSelfIssued ? 0 : 1);
        if (intermediatesOnPath > _maxIntermediates || position + 1 > _limits.MaxPathLength)
            return new Rejection(VerificationFailure.PathTooLong,
                $"the chain for {Leaf} needs more than {_maxIntermediates} intermediate certificates");

        var key = (issuer.Fingerprint, isAnchor);
        if (!_issuerChecks.TryGetValue(key, out var issuerProblem))
            _issuerChecks[key] = issuerProblem = CertificateProfile.CheckIssuer(issuer, isAnchor, _purpose, _now);
        if (issuerProblem is not null)
            return issuerProblem;

        // RFC 5280 §6.1.4 (m): pathLenConstraint counts the non-self-issued intermediates below.
        if (issuer.PathLenConstraint is { } pathLen && intermediatesBelow > pathLen)
            return new Rejection(VerificationFailure.PathTooLong,
                $"CA '{issuer.SubjectText}' allows {pathLen} intermediate(s) below it (pathLenConstraint) but the chain for {Leaf} has {intermediatesBelow}");

        if (AlgorithmPolicy.CheckSignatureAlgorithm(child.Structure.SignatureAlgorithm) is { } weak)
            return weak with { Message = $"certificate '{child.SubjectText}' {weak.Message}" };
        if (!VerifySignature(child, issuer))
        {
            return _budget.IsExhausted ? _budget.Exhausted() : new Rejection(VerificationFailure.BadSignature,
                $"the signature on certificate '{child.SubjectText}' does not verify with the key of '{issuer.SubjectText}'");
        }

        // RFC 5280 §6.1.3 (a)(3): revocation status, from the CRLs this issuer signed.
        foreach (var crl in _crls)
        {
            if (crl.IssuerDer.AsSpan().SequenceEqual(issuer.SubjectDer) && crl.Check(child, issuer, _budget) is { } revoked)
                return revoked;
        }

        // RFC 5280 §6.1.3 (b)-(c): constraints bind every certificate below, except self-issued intermediates.
        if (issuer.NameConstraints is { } constraints)
        {
            for (var i = 0; i < _path.Count; i++)
            {
                if (i > 0 && _path[i].IsSelfIssued)
                    continue;
                if (constraints.Check(_path[i], issuer.SubjectText, _budget) is { } violation)
                    return violation;
            }
        }
        return null;
    }

    private bool VerifySignature(ParsedCertificate child, ParsedCertificate issuer)
    {
        var key = (child.Fingerprint, issuer.Identity);
        if (_signatures.TryGetValue(key, out var valid))
            return valid;
        if (!_budget.TryCharge(WorkBudget.Kind.Signature))
            return false;
        valid = SignatureCheck.IsSignedBy(child, issuer);
        _signatures[key] = valid;
        return valid;
    }

    private void Record(Rejection rejection, int depth)
    {
        if (depth > _bestDepth)
        {
            _best = rejection;
            _bestDepth = depth;
        }
    }

    private string Leaf => HostNameMatcher.Describe(_path[0]);

    private Rejection Untrusted(ParsedCertificate child)
    {
        var issuer = child.Tbs.Issuer.ToString();
        var message = child == _path[0]
            ? $"certificate for {Leaf} was issued by '{issuer}', which is not a trusted root and was not sent by the server"
            : $"the chain for {Leaf} ends at '{child.SubjectText}', issued by '{issuer}', which is not a trusted root";
        return new Rejection(VerificationFailure.UnknownIssuer, message + "; if you trust this server anyway, pin its certificate");
    }
}
