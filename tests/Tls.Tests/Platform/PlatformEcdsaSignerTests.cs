using System.Security.Cryptography;
using Apps.Tls.Platform;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math.EC.Multiplier;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Apps.Tls.Tests.Platform;

/// <summary>ECDSA with the platform's k·G: byte-identical to BouncyCastle's RFC 6979 signatures, and valid for .NET.</summary>
public class PlatformEcdsaSignerTests
{
    public static TheoryData<string, int> Curves() => new()
    {
        { "P-256", SignatureScheme.ecdsa_secp256r1_sha256 },
        { "P-384", SignatureScheme.ecdsa_secp384r1_sha384 },
    };

    [Theory, MemberData(nameof(Curves))]
    public void Signatures_are_the_bytes_bouncycastle_makes_and_draw_no_randomness(string curve, int scheme)
    {
        var key = NewKey(curve);
        var random = TestRandom.Create(out var counter);
        var crypto = new BcTlsCrypto(random);
        var algorithm = SignatureScheme.GetSignatureAndHashAlgorithm(scheme);
        var hashSize = curve == "P-256" ? 32 : 48;
        for (var i = 0; i < 10; i++)
        {
            var hash = RandomNumberGenerator.GetBytes(hashSize);
            var ours = new PlatformEcdsaSigner(crypto, key, scheme).GenerateRawSignature(algorithm, hash);
            var theirs = new BcTlsECDsa13Signer(crypto, key, scheme).GenerateRawSignature(algorithm, hash);
            Assert.Equal(theirs, ours);
            Assert.True(DotNetKey(key, curve).VerifyHash(hash, ours, DSASignatureFormat.Rfc3279DerSequence));
        }

        Assert.Equal(0, counter.Bytes); // RFC 6979: the nonce comes from the key and the hash
    }

    [Theory, MemberData(nameof(Curves))]
    public void Base_point_multiples_match_bouncycastle(string curve, int scheme)
    {
        _ = scheme;
        var domain = NistNamedCurves.GetByName(curve);
        var multiplier = PlatformBasePointMultiplier.For(new ECDomainParameters(domain))!;
        var comb = new FixedPointCombMultiplier();
        var random = TestRandom.Create();
        foreach (var k in new[] { BcBigInteger.One, BcBigInteger.Two, domain.N.Subtract(BcBigInteger.One) }
                     .Concat(Enumerable.Range(0, 10).Select(_ => new BcBigInteger(domain.N.BitLength, random).Mod(domain.N))))
        {
            if (k.SignValue == 0)
            {
                continue;
            }

            Assert.Equal(comb.Multiply(domain.G, k).Normalize(), multiplier.Multiply(domain.G, k).Normalize());
        }
    }

    [Theory, MemberData(nameof(Curves))]
    public void With_the_key_in_openssl_signatures_are_still_the_bytes_bouncycastle_makes(string curve, int scheme)
    {
        var domain = new ECDomainParameters(NistNamedCurves.GetByName(curve));
        var random = TestRandom.Create(out var counter);
        var crypto = new BcTlsCrypto(random);
        var algorithm = SignatureScheme.GetSignatureAndHashAlgorithm(scheme);
        var size = curve == "P-256" ? 32 : 48;
        // Random keys and the extremes of the range; hashes random, all zero, all ones (e ≥ n), and longer than n
        // (truncated to n's length, FIPS 186-5 §6.4.1).
        var keys = new[] { NewKey(curve), NewKey(curve), new ECPrivateKeyParameters(BcBigInteger.One, domain),
            new ECPrivateKeyParameters(domain.N.Subtract(BcBigInteger.One), domain) };
        var hashes = Enumerable.Range(0, 8).Select(_ => RandomNumberGenerator.GetBytes(size))
            .Append(new byte[size]).Append(Enumerable.Repeat((byte)0xff, size).ToArray()).Append(RandomNumberGenerator.GetBytes(64)).ToArray();
        foreach (var key in keys)
        {
            using var held = PlatformEcdsaSigner.KeyFor(key);
            Assert.NotNull(held);
            var signer = new PlatformEcdsaSigner(crypto, key, scheme, key: held);
            foreach (var hash in hashes)
            {
                var ours = signer.GenerateRawSignature(algorithm, hash);
                var theirs = new BcTlsECDsa13Signer(crypto, key, scheme).GenerateRawSignature(algorithm, hash);
                Assert.Equal(theirs, ours);
            }

            var digest = RandomNumberGenerator.GetBytes(size);
            Assert.True(DotNetKey(key, curve).VerifyHash(digest, signer.GenerateRawSignature(algorithm, digest), DSASignatureFormat.Rfc3279DerSequence));

            // s really is OpenSSL's: given another key there, the signature no longer matches BouncyCastle's.
            using var other = PlatformEcdsaSigner.KeyFor(NewKey(curve));
            Assert.NotEqual(new BcTlsECDsa13Signer(crypto, key, scheme).GenerateRawSignature(algorithm, digest),
                new PlatformEcdsaSigner(crypto, key, scheme, key: other).GenerateRawSignature(algorithm, digest));
        }

        Assert.Equal(0, counter.Bytes);
    }

    [Fact]
    public void Openssl_computes_s_from_the_callers_k_inverse_and_r()
    {
        // FIPS 186-5 §6.4.1 by hand: s = k⁻¹·(e + r·d) mod n, with r = (k·G).x mod n.
        var domain = new ECDomainParameters(NistNamedCurves.GetByName("P-256"));
        var key = NewKey("P-256");
        var k = NewKey("P-256").D;
        var hash = RandomNumberGenerator.GetBytes(32);
        var n = domain.N;
        var r = domain.G.Multiply(k).Normalize().AffineXCoord.ToBigInteger().Mod(n);
        var expected = k.ModInverse(n).Multiply(new BcBigInteger(1, hash).Add(key.D.Multiply(r))).Mod(n);

        using var held = PlatformEcdsaSigner.KeyFor(key)!;
        var s = new byte[32];
        Assert.True(held.TrySign(hash, k.ModInverse(n).ToByteArrayUnsigned(), r.ToByteArrayUnsigned(), s));
        Assert.Equal(expected, new BcBigInteger(1, s));
        Assert.Throws<ArgumentException>(() => held.TrySign(hash, new byte[33], r.ToByteArrayUnsigned(), s));
        Assert.Throws<ArgumentException>(() => held.TrySign(hash, k.ToByteArrayUnsigned(), r.ToByteArrayUnsigned(), new byte[31]));
    }

    [Fact]
    public void Keys_off_the_platforms_curves_stay_with_bouncycastle()
    {
        var k256 = Org.BouncyCastle.Asn1.Sec.SecNamedCurves.GetByName("secp256k1");
        Assert.Null(PlatformEcdsaSigner.KeyFor(new ECPrivateKeyParameters(BcBigInteger.Two, new ECDomainParameters(k256))));
    }

    [Fact]
    public void Other_points_and_out_of_range_scalars_are_left_to_bouncycastle()
    {
        var domain = NistNamedCurves.GetByName("P-256");
        var multiplier = PlatformBasePointMultiplier.For(new ECDomainParameters(domain))!;
        var other = domain.G.Multiply(BcBigInteger.Three).Normalize();
        var k = BcBigInteger.ValueOf(12345);
        Assert.Equal(other.Multiply(k).Normalize(), multiplier.Multiply(other, k).Normalize());
        Assert.True(multiplier.Multiply(domain.G, domain.N).Normalize().IsInfinity);
    }

    [Fact]
    public void Curves_the_platform_does_not_map_get_no_multiplier()
    {
        var k256 = Org.BouncyCastle.Asn1.Sec.SecNamedCurves.GetByName("secp256k1");
        Assert.Null(PlatformBasePointMultiplier.For(new ECDomainParameters(k256)));
    }

    [Fact]
    public void Signer_refuses_a_scheme_that_is_not_its_own()
    {
        var key = NewKey("P-256");
        var signer = new PlatformEcdsaSigner(new BcTlsCrypto(TestRandom.Create()), key, SignatureScheme.ecdsa_secp256r1_sha256);
        Assert.Throws<InvalidOperationException>(() => signer.GenerateRawSignature(
            SignatureScheme.GetSignatureAndHashAlgorithm(SignatureScheme.ecdsa_secp384r1_sha384), new byte[48]));
    }

    private static ECPrivateKeyParameters NewKey(string curve)
    {
        var domain = new ECDomainParameters(NistNamedCurves.GetByName(curve));
        var random = TestRandom.Create();
        BcBigInteger d;
        do
        {
            d = new BcBigInteger(domain.N.BitLength, random);
        }
        while (d.SignValue == 0 || d.CompareTo(domain.N) >= 0);

        return new ECPrivateKeyParameters(d, domain);
    }

    private static ECDsa DotNetKey(ECPrivateKeyParameters key, string curve)
    {
        var q = key.Parameters.G.Multiply(key.D).Normalize();
        return ECDsa.Create(new ECParameters
        {
            Curve = curve == "P-256" ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384,
            Q = new ECPoint { X = q.AffineXCoord.GetEncoded(), Y = q.AffineYCoord.GetEncoded() },
        });
    }
}
