using Apps.Tls.Verification;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.X509;
using static Apps.Tls.Tests.Verification.VerifierFixture;

namespace Apps.Tls.Tests.Verification;

/// <summary>RFC 5280 §6.3 revocation with CRLs handed to the verifier.</summary>
public sealed class RevocationTests
{
    private static readonly Issued Root = TestCertificate.Root();
    private static readonly Issued Intermediate = TestCertificate.Intermediate(Root);
    private static readonly Issued Leaf = TestCertificate.Leaf(Intermediate, "example.org");

    private static BigInteger SerialOf(Issued cert) =>
        X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(cert.Der)).SerialNumber.Value;

    private static byte[] Crl(Issued issuer, BigInteger[] revoked, bool withNumber = true, Issued? signer = null)
    {
        var generator = new X509V2CrlGenerator();
        generator.SetIssuerDN(new X509Name(issuer.Subject));
        generator.SetThisUpdate(TestCertificate.Now.AddDays(-1).UtcDateTime);
        generator.SetNextUpdate(TestCertificate.Now.AddDays(6).UtcDateTime);
        foreach (var serial in revoked)
            generator.AddCrlEntry(serial, TestCertificate.Now.AddDays(-2).UtcDateTime, CrlReason.KeyCompromise);
        if (withNumber)
            generator.AddExtension(X509Extensions.CrlNumber, false, new CrlNumber(BigInteger.One));
        var key = (signer ?? issuer).Key.Private;
        return generator.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", key)).GetEncoded();
    }

    private static CertificateVerdict VerifyWith(params byte[][] crls) =>
        new StrictCertificateVerifier(TrustAnchors.FromCertificates([Root.Der]))
            .Verify(new VerificationRequest([Leaf.Der, Intermediate.Der], Name("example.org"), TestCertificate.Now) { RevocationLists = crls });

    private static PeerName Name(string text) => PeerName.TryParse(text, out var name, out _) ? name! : throw new ArgumentException(text);

    [Fact]
    public void Leaf_listed_by_its_issuer_is_revoked()
    {
        var verdict = VerifyWith(Crl(Intermediate, [SerialOf(Leaf)]));

        AssertFailure(VerificationFailure.Revoked, verdict);
        Assert.Contains("was revoked by 'CN=Test Intermediate", verdict.Message);
    }

    [Fact]
    public void Intermediate_listed_by_the_root_is_revoked() =>
        AssertFailure(VerificationFailure.Revoked, VerifyWith(Crl(Root, [SerialOf(Intermediate)])));

    [Fact]
    public void Certificate_not_listed_verifies() =>
        AssertVerified(VerifyWith(Crl(Intermediate, [BigInteger.ValueOf(12345)]), Crl(Root, [])));

    [Fact]
    public void Serial_listed_by_another_issuer_does_not_matter()
    {
        var other = TestCertificate.Root("CN=Other CA");

        AssertVerified(VerifyWith(Crl(other, [SerialOf(Leaf)])));
    }

    [Fact]
    public void Crl_signed_by_another_key_is_bad_signature()
    {
        var impostor = new TestCertificate { Subject = Intermediate.Subject, Issuer = Root, Ca = true }.Issue();

        AssertFailure(VerificationFailure.BadSignature, VerifyWith(Crl(Intermediate, [], signer: impostor)));
    }

    [Fact]
    public void Crl_without_crl_number_is_malformed() =>
        AssertFailure(VerificationFailure.Malformed, VerifyWith(Crl(Intermediate, [], withNumber: false)));

    [Fact]
    public void Crl_from_a_ca_without_crl_sign_fails_key_usage()
    {
        var noCrlSign = new TestCertificate { Subject = "CN=No CRL Sign", Issuer = Root, Ca = true, KeyUsageBits = KeyUsage.KeyCertSign }.Issue();
        var leaf = TestCertificate.Leaf(noCrlSign, "example.org");

        var verdict = new StrictCertificateVerifier(TrustAnchors.FromCertificates([Root.Der]))
            .Verify(new VerificationRequest([leaf.Der, noCrlSign.Der], Name("example.org"), TestCertificate.Now)
            {
                RevocationLists = [Crl(noCrlSign, [])],
            });

        AssertFailure(VerificationFailure.KeyUsage, verdict);
    }

    [Fact]
    public void Unreadable_crl_is_malformed() => AssertFailure(VerificationFailure.Malformed, VerifyWith([0x30, 0x03, 0x02, 0x01, 0x00]));
}
