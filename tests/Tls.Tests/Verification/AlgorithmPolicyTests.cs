using Apps.Tls.Verification;
using Org.BouncyCastle.Asn1.Sec;
using static Apps.Tls.Tests.Verification.VerifierFixture;

namespace Apps.Tls.Tests.Verification;

/// <summary>Weak keys and broken signature algorithms are refused wherever they appear on the path.</summary>
public sealed class AlgorithmPolicyTests
{
    private static readonly Issued Root = TestCertificate.Root();
    private static readonly Issued RsaRoot = new TestCertificate { Subject = "CN=RSA Root", Ca = true, Key = TestCertificate.Rsa2048 }.Issue();

    [Fact]
    public void Rsa_1024_leaf_key_is_weak()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], Key = TestCertificate.NewRsaKey(1024) }.Issue();

        var verdict = Verify(Root, "example.org", leaf);

        AssertFailure(VerificationFailure.WeakKey, verdict);
        Assert.Contains("1024-bit RSA", verdict.Message);
    }

    [Fact]
    public void Rsa_1024_root_key_is_weak()
    {
        var weakRoot = new TestCertificate { Subject = "CN=Weak Root", Ca = true, Key = TestCertificate.NewRsaKey(1024) }.Issue();
        var leaf = TestCertificate.Leaf(weakRoot, "example.org");

        AssertFailure(VerificationFailure.WeakKey, Verify(weakRoot, "example.org", leaf));
    }

    [Fact]
    public void P192_leaf_key_is_weak()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], Key = TestCertificate.NewEcKey(SecObjectIdentifiers.SecP192r1) }.Issue();

        AssertFailure(VerificationFailure.WeakKey, Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void P384_and_rsa_2048_keys_are_accepted()
    {
        var p384 = new TestCertificate { Issuer = RsaRoot, DnsNames = ["example.org"], Key = TestCertificate.NewEcKey(SecObjectIdentifiers.SecP384r1) }.Issue();

        AssertVerified(Verify(RsaRoot, "example.org", p384));
    }

    [Fact]
    public void Sha1_signature_on_the_leaf_is_weak()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], SignatureAlgorithm = "SHA1WITHECDSA" }.Issue();

        var verdict = Verify(Root, "example.org", leaf);

        AssertFailure(VerificationFailure.WeakSignatureAlgorithm, verdict);
        Assert.Contains("SHA-1", verdict.Message);
    }

    [Fact]
    public void Md5_signature_on_the_leaf_is_weak()
    {
        var leaf = new TestCertificate { Issuer = RsaRoot, DnsNames = ["example.org"], SignatureAlgorithm = "MD5WITHRSA" }.Issue();

        AssertFailure(VerificationFailure.WeakSignatureAlgorithm, Verify(RsaRoot, "example.org", leaf));
    }

    [Fact]
    public void Sha1_signature_on_an_intermediate_is_weak()
    {
        var intermediate = new TestCertificate { Subject = "CN=SHA-1 Intermediate", Issuer = RsaRoot, Ca = true, SignatureAlgorithm = "SHA1WITHRSA" }.Issue();
        var leaf = TestCertificate.Leaf(intermediate, "example.org");

        AssertFailure(VerificationFailure.WeakSignatureAlgorithm, Verify(RsaRoot, "example.org", leaf, intermediate));
    }

    [Fact]
    public void Rsa_pss_with_sha256_is_accepted()
    {
        var leaf = new TestCertificate { Issuer = RsaRoot, DnsNames = ["example.org"], SignatureAlgorithm = "SHA256WITHRSAANDMGF1" }.Issue();

        AssertVerified(Verify(RsaRoot, "example.org", leaf));
    }

    [Fact]
    public void Ed25519_chain_is_accepted()
    {
        var generator = new Org.BouncyCastle.Crypto.Generators.Ed25519KeyPairGenerator();
        generator.Init(new Org.BouncyCastle.Crypto.Parameters.Ed25519KeyGenerationParameters(new Org.BouncyCastle.Security.SecureRandom()));
        var edRoot = new TestCertificate { Subject = "CN=Ed25519 Root", Ca = true, Key = generator.GenerateKeyPair(), SignatureAlgorithm = "Ed25519" }.Issue();
        var leaf = new TestCertificate { Issuer = edRoot, DnsNames = ["example.org"], SignatureAlgorithm = "Ed25519" }.Issue();

        AssertVerified(Verify(edRoot, "example.org", leaf));
    }

    [Fact]
    public void Ecdsa_signature_by_an_rsa_issuer_name_twin_is_bad_signature()
    {
        // Same issuer name, different key type: the signature cannot verify.
        var ecTwin = new TestCertificate { Subject = "CN=RSA Root", Ca = true }.Issue();
        var leaf = TestCertificate.Leaf(ecTwin, "example.org");

        AssertFailure(VerificationFailure.BadSignature, Verify(RsaRoot, "example.org", leaf));
    }
}
