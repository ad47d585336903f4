using Apps.Tls.Verification;
using Org.BouncyCastle.X509;

namespace Apps.Tls.Tests.TestSupport;

/// <summary>
/// Test double for the verification hook, not a verifier: "verified" when the leaf's SubjectPublicKeyInfo
/// is one of the expected ones, UnknownIssuer otherwise. Records what it was asked.
/// </summary>
internal sealed class ExpectedKeyVerifier : IServerCertificateVerifier
{
    private readonly HashSet<string> _expected = new(StringComparer.Ordinal);

    public ExpectedKeyVerifier(params TestCertificate[] certificates)
    {
        foreach (var certificate in certificates)
        {
            _expected.Add(certificate.SpkiSha256Base64);
        }
    }

    public List<(string ServerName, DateTimeOffset Now, int ChainLength)> Calls { get; } = [];

    public CertificateVerdict Verify(IReadOnlyList<byte[]> peerChain, string serverName, DateTimeOffset now)
    {
        Calls.Add((serverName, now, peerChain.Count));
        var leaf = new X509CertificateParser().ReadCertificate(peerChain[0]);
        var spki = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(
            leaf.CertificateStructure.SubjectPublicKeyInfo.GetEncoded()));
        return _expected.Contains(spki)
            ? new CertificateVerdict(VerificationFailure.None, "verified", peerChain)
            : new CertificateVerdict(VerificationFailure.UnknownIssuer, $"certificate for {serverName} is not from an expected key", []);
    }
}

/// <summary>Test double returning one fixed verdict.</summary>
internal sealed class FixedVerdictVerifier(VerificationFailure failure) : IServerCertificateVerifier
{
    public CertificateVerdict Verify(IReadOnlyList<byte[]> peerChain, string serverName, DateTimeOffset now) =>
        new(failure, failure == VerificationFailure.None ? "verified" : $"test verdict {failure} for {serverName}",
            failure == VerificationFailure.None ? peerChain : []);
}
