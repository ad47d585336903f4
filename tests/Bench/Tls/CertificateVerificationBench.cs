using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Apps.Tls.Verification;
using BenchmarkDotNet.Attributes;

namespace Apps.Bench.Tls;

/// <summary>
/// Verifying a leaf ← intermediate ← root ECDSA P-256 chain: our <see cref="StrictCertificateVerifier"/>
/// (parse all three, build and validate the path, match the name) against the anchor .NET
/// <see cref="X509Chain"/> (OpenSSL on Linux) with a custom root and no revocation checks, which
/// builds and validates the path but does not match a name. No goal is set in issue 3; this
/// measures what a handshake pays for verification.
/// </summary>
[MemoryDiagnoser]
public class CertificateVerificationBench
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private X509Certificate2 _root = null!, _intermediate = null!, _leaf = null!;
    private StrictCertificateVerifier _verifier = null!;
    private byte[][] _chain = null!;

    [GlobalSetup]
    public void Setup()
    {
        _root = Issue("CN=Bench Root", null, ca: true);
        _intermediate = Issue("CN=Bench Intermediate", _root, ca: true);
        _leaf = Issue("CN=www.example.org", _intermediate, ca: false);
        _verifier = new StrictCertificateVerifier(TrustAnchors.FromCertificates([_root.RawData]));
        _chain = [_leaf.RawData, _intermediate.RawData];
        var verdict = _verifier.Verify(_chain, "www.example.org", Now);
        if (!verdict.IsVerified || !DotNet())
            throw new InvalidOperationException("benchmark chain does not verify: " + verdict.Message);
    }

    [Benchmark(Baseline = true, Description = "X509Chain.Build")]
    public bool DotNet()
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_root);
        chain.ChainPolicy.ExtraStore.Add(_intermediate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = Now.UtcDateTime;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        return chain.Build(_leaf);
    }

    [Benchmark(Description = "StrictCertificateVerifier.Verify")]
    public bool Ours() => _verifier.Verify(_chain, "www.example.org", Now).IsVerified;

    private static X509Certificate2 Issue(string subject, X509Certificate2? issuer, bool ca)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, ca));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            ca ? X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign : X509KeyUsageFlags.DigitalSignature, true));
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(ski);
        if (!ca)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("www.example.org");
            request.CertificateExtensions.Add(san.Build());
        }
        var notBefore = Now.AddDays(-10);
        var notAfter = Now.AddDays(ca ? 365 : 90);
        if (issuer is null)
            return request.CreateSelfSigned(notBefore, notAfter);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        serial[0] |= 0x01;
        using var issued = request.Create(issuer, notBefore, notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }
}
