using Apps.Tls.Platform;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Asn1.Nist;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Apps.Tls.Tests.Platform;

/// <summary>OpenSSL's P-256 and P-384 multiplication against BouncyCastle's, and points it must refuse.</summary>
public class OpenSslCurveTests
{
    public static TheoryData<string> Curves() => ["P-256", "P-384"];

    private static OpenSslCurve Curve(string name) => (name == "P-256" ? OpenSslCurve.P256 : OpenSslCurve.P384)
        ?? throw new InvalidOperationException("libcrypto is missing on this machine");

    private static byte[] Scalar(OpenSslCurve curve, BcBigInteger k)
    {
        var bytes = new byte[curve.Size];
        var magnitude = k.ToByteArrayUnsigned();
        magnitude.CopyTo(bytes, curve.Size - magnitude.Length);
        return bytes;
    }

    [Theory, MemberData(nameof(Curves))]
    public void Generator_multiples_match_bouncycastle(string name)
    {
        var curve = Curve(name);
        var domain = NistNamedCurves.GetByName(name);
        var random = TestRandom.Create();
        var point = new byte[curve.PointSize];
        foreach (var k in new[] { BcBigInteger.One, BcBigInteger.Two, domain.N.Subtract(BcBigInteger.One) }
                     .Concat(Enumerable.Range(0, 20).Select(_ => new BcBigInteger(domain.N.BitLength - 1, random).Add(BcBigInteger.One))))
        {
            curve.MultiplyGenerator(Scalar(curve, k), point);
            Assert.Equal(domain.G.Multiply(k).GetEncoded(false), point);
        }
    }

    [Theory, MemberData(nameof(Curves))]
    public void Agreement_is_the_x_coordinate_bouncycastle_computes(string name)
    {
        var curve = Curve(name);
        var domain = NistNamedCurves.GetByName(name);
        var random = TestRandom.Create();
        var x = new byte[curve.Size];
        for (var i = 0; i < 20; i++)
        {
            var a = new BcBigInteger(domain.N.BitLength - 1, random).Add(BcBigInteger.One);
            var b = new BcBigInteger(domain.N.BitLength - 1, random).Add(BcBigInteger.One);
            Assert.True(curve.TryAgree(Scalar(curve, a), domain.G.Multiply(b).GetEncoded(false), x));
            Assert.Equal(domain.G.Multiply(a.Multiply(b)).Normalize().AffineXCoord.GetEncoded(), x);
        }
    }

    [Theory, MemberData(nameof(Curves))]
    public void Points_off_the_curve_or_malformed_give_no_secret(string name)
    {
        var curve = Curve(name);
        var domain = NistNamedCurves.GetByName(name);
        var scalar = Scalar(curve, BcBigInteger.ValueOf(7));
        var x = new byte[curve.Size];
        var offCurve = domain.G.GetEncoded(false);
        offCurve[^1] ^= 1;
        Assert.False(curve.TryAgree(scalar, offCurve, x));
        var compressedMarker = domain.G.GetEncoded(false);
        compressedMarker[0] = 0x05;
        Assert.False(curve.TryAgree(scalar, compressedMarker, x));
        Assert.False(curve.TryAgree(scalar, domain.G.GetEncoded(false)[..^1], x));
        Assert.False(curve.TryAgree(scalar, new byte[curve.PointSize], x));
    }

    [Fact]
    public void Scalars_of_the_wrong_size_are_refused()
    {
        var curve = Curve("P-256");
        Assert.Throws<ArgumentException>(() => curve.MultiplyGenerator(new byte[31], new byte[curve.PointSize]));
    }

    [Fact]
    public void Curves_and_x25519_give_the_same_answers_from_many_threads_at_once()
    {
        // The EC_GROUPs are shared by every connection; OpenSSL must only read them.
        var curve = Curve("P-384");
        var domain = NistNamedCurves.GetByName("P-384");
        var scalar = Scalar(curve, BcBigInteger.ValueOf(123456789));
        var expected = domain.G.Multiply(BcBigInteger.ValueOf(123456789)).GetEncoded(false);
        var x25519Key = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        var x25519Public = Convert.FromHexString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        var failures = 0;
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            var point = new byte[curve.PointSize];
            curve.MultiplyGenerator(scalar, point);
            var publicKey = new byte[32];
            OpenSslX25519.DerivePublicKey(x25519Key, publicKey);
            if (!point.AsSpan().SequenceEqual(expected) || !publicKey.AsSpan().SequenceEqual(x25519Public))
            {
                Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }
}
