using Apps.Tls.Platform;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Apps.Tls.Tests.Platform;

/// <summary>ECDSA verification with OpenSSL's u1·G + u2·Q gives BouncyCastle's answer for good and bad signatures.</summary>
public class PlatformEcdsaVerifierTests
{
    public static TheoryData<string> Curves() => ["P-256", "P-384"];

    [Theory, MemberData(nameof(Curves))]
    public void Accepts_and_refuses_exactly_what_bouncycastle_does(string name)
    {
        var domain = new ECDomainParameters(NistNamedCurves.GetByName(name));
        var random = TestRandom.Create();
        var d = new BcBigInteger(domain.N.BitLength - 1, random).Add(BcBigInteger.One);
        var privateKey = new ECPrivateKeyParameters(d, domain);
        var publicKey = new ECPublicKeyParameters(domain.G.Multiply(d).Normalize(), domain);
        var curve = PlatformEcdsaVerifier.CurveFor(domain)!;
        var n = domain.N;
        for (var i = 0; i < 10; i++)
        {
            var hash = new byte[name == "P-256" ? 32 : 48];
            random.NextBytes(hash);
            var signer = new ECDsaSigner(new HMacDsaKCalculator(new Org.BouncyCastle.Crypto.Digests.Sha256Digest()));
            signer.Init(true, privateKey);
            var rs = signer.GenerateSignature(hash);
            var (r, s) = (rs[0], rs[1]);
            var otherHash = (byte[])hash.Clone();
            otherHash[0] ^= 1;
            foreach (var (message, candidateR, candidateS) in new[]
                     {
                         (hash, r, s), (otherHash, r, s), (hash, r.Add(BcBigInteger.One), s), (hash, r, s.Add(BcBigInteger.One)),
                         (hash, BcBigInteger.Zero, s), (hash, r, n), (hash, r.Add(n), s), (hash, r, n.Subtract(s)),
                     })
            {
                var ours = new PlatformEcdsaVerifier(curve);
                ours.Init(false, publicKey);
                var theirs = new ECDsaSigner();
                theirs.Init(false, publicKey);
                Assert.Equal(theirs.VerifySignature(message, candidateR, candidateS), ours.VerifySignature(message, candidateR, candidateS));
            }

            var verifier = new PlatformEcdsaVerifier(curve);
            verifier.Init(false, publicKey);
            Assert.True(verifier.VerifySignature(hash, r, s));
        }
    }

    [Fact]
    public void Refuses_to_sign()
    {
        var domain = new ECDomainParameters(NistNamedCurves.GetByName("P-256"));
        var verifier = new PlatformEcdsaVerifier(PlatformEcdsaVerifier.CurveFor(domain)!);
        Assert.Throws<InvalidOperationException>(() => verifier.Init(true, new ECPrivateKeyParameters(BcBigInteger.Two, domain)));
    }

    [Fact]
    public void Other_curves_have_no_platform_verifier()
    {
        Assert.Null(PlatformEcdsaVerifier.CurveFor(new ECDomainParameters(Org.BouncyCastle.Asn1.Sec.SecNamedCurves.GetByName("secp256k1"))));
    }
}
