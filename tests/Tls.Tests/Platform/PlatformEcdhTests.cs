using Apps.Tls.Platform;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Tests.Platform;

/// <summary>P-256 and P-384 ECDHE by the platform against BouncyCastle's own agreement, and hostile key shares.</summary>
public class PlatformEcdhTests
{
    private static PlatformEcdhDomain Domain(int group, out CountingRandomGenerator counter) =>
        new(new BcTlsCrypto(TestRandom.Create(out counter)), new TlsECConfig(group), PlatformEcdhDomain.CurveFor(group)!);

    private static BcTlsECDomain BouncyCastleDomain(int group) => new(new BcTlsCrypto(TestRandom.Create()), new TlsECConfig(group));

    [Theory]
    [InlineData(NamedGroup.secp256r1, 65)]
    [InlineData(NamedGroup.secp384r1, 97)]
    public void Both_sides_of_an_exchange_with_bouncycastle_reach_the_same_secret(int group, int shareLength)
    {
        for (var i = 0; i < 10; i++)
        {
            var ours = Domain(group, out _).CreateECDH();
            var theirs = BouncyCastleDomain(group).CreateECDH();
            var ourShare = ours.GenerateEphemeral();
            Assert.Equal(shareLength, ourShare.Length);
            Assert.Equal(0x04, ourShare[0]); // RFC 8446 §4.2.8.2: uncompressed
            ours.ReceivePeerValue(theirs.GenerateEphemeral());
            theirs.ReceivePeerValue(ourShare);
            var secret = ours.CalculateSecret().Extract();
            Assert.Equal(theirs.CalculateSecret().Extract(), secret);
            Assert.Equal((shareLength - 1) / 2, secret.Length); // RFC 8446 §7.4.2: the x-coordinate, field-size bytes
        }
    }

    [Theory]
    [InlineData(NamedGroup.secp256r1, 32)]
    [InlineData(NamedGroup.secp384r1, 48)]
    public void Private_scalar_is_drawn_from_the_injected_random(int group, int size)
    {
        var domain = Domain(group, out var counter);
        domain.CreateECDH().GenerateEphemeral();
        // Rejection sampling redraws only for a scalar >= n, which for these curves has odds below 2^-32.
        Assert.Equal(size, counter.Bytes);
    }

    [Theory]
    [InlineData(NamedGroup.secp256r1)]
    [InlineData(NamedGroup.secp384r1)]
    public void Point_off_the_curve_is_an_illegal_parameter(int group)
    {
        var valid = BouncyCastleDomain(group).CreateECDH().GenerateEphemeral();
        valid[^1] ^= 1; // y no longer satisfies the curve equation
        AssertIllegal(group, valid);
    }

    [Theory]
    [InlineData(NamedGroup.secp256r1, "00")]
    [InlineData(NamedGroup.secp256r1, "04")]
    [InlineData(NamedGroup.secp256r1, "")]
    [InlineData(NamedGroup.secp256r1, "05ffff")]
    [InlineData(NamedGroup.secp384r1, "00")]
    public void Point_at_infinity_and_malformed_encodings_are_illegal_parameters(int group, string hex) =>
        AssertIllegal(group, Convert.FromHexString(hex));

    [Fact]
    public void Coordinates_beyond_the_field_are_illegal_parameters()
    {
        var share = new byte[65];
        share[0] = 0x04;
        share.AsSpan(1).Fill(0xFF);
        AssertIllegal(NamedGroup.secp256r1, share);
    }

    [Fact]
    public void Truncated_share_is_an_illegal_parameter()
    {
        var valid = BouncyCastleDomain(NamedGroup.secp256r1).CreateECDH().GenerateEphemeral();
        AssertIllegal(NamedGroup.secp256r1, valid[..^1]);
    }

    private static void AssertIllegal(int group, byte[] share)
    {
        var agreement = Domain(group, out _).CreateECDH();
        agreement.GenerateEphemeral();
        var alert = Assert.Throws<TlsFatalAlert>(() => agreement.ReceivePeerValue(share));
        Assert.Equal(AlertDescription.illegal_parameter, alert.AlertDescription);
    }
}
