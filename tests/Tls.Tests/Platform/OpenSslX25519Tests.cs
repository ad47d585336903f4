using Apps.Tls.Platform;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Math.EC.Rfc7748;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Tests.Platform;

/// <summary>X25519 by libcrypto against RFC 7748's vectors and BouncyCastle's own results.</summary>
public class OpenSslX25519Tests
{
    private static readonly byte[] AlicePrivate = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    private static readonly byte[] AlicePublic = Convert.FromHexString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    private static readonly byte[] BobPrivate = Convert.FromHexString("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    private static readonly byte[] BobPublic = Convert.FromHexString("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    private static readonly byte[] Shared = Convert.FromHexString("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

    /// <summary>u-coordinates of small order (and their non-canonical forms), which give an all-zero secret with any key.</summary>
    public static TheoryData<string> LowOrderPoints() =>
    [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];

    [Fact]
    public void Libcrypto_is_available_on_this_system()
    {
        // The test machine and CI have OpenSSL 3; without it the engine falls back to BouncyCastle.
        Assert.True(OpenSslX25519.IsAvailable);
    }

    [Fact]
    public void Public_keys_match_rfc7748_section_6_1()
    {
        var output = new byte[32];
        OpenSslX25519.DerivePublicKey(AlicePrivate, output);
        Assert.Equal(AlicePublic, output);
        OpenSslX25519.DerivePublicKey(BobPrivate, output);
        Assert.Equal(BobPublic, output);
    }

    [Fact]
    public void Both_sides_reach_the_rfc7748_shared_secret()
    {
        var alice = new byte[32];
        var bob = new byte[32];
        Assert.True(OpenSslX25519.TryAgree(AlicePrivate, BobPublic, alice));
        Assert.True(OpenSslX25519.TryAgree(BobPrivate, AlicePublic, bob));
        Assert.Equal(Shared, alice);
        Assert.Equal(Shared, bob);
    }

    [Fact]
    public void Random_keys_give_the_same_results_as_bouncycastle()
    {
        var random = TestRandom.Create();
        for (var i = 0; i < 50; i++)
        {
            var a = new byte[32];
            var b = new byte[32];
            random.NextBytes(a);
            random.NextBytes(b);
            var (ourPublic, theirPublic) = (new byte[32], new byte[32]);
            OpenSslX25519.DerivePublicKey(a, ourPublic);
            X25519.ScalarMultBase(a, 0, theirPublic, 0);
            Assert.Equal(theirPublic, ourPublic);

            // An arbitrary u-coordinate (not necessarily a valid public key) must still agree with BouncyCastle.
            var (ours, theirs) = (new byte[32], new byte[32]);
            Assert.Equal(X25519.CalculateAgreement(a, 0, b, 0, theirs, 0), OpenSslX25519.TryAgree(a, b, ours));
            Assert.Equal(theirs, ours);
        }
    }

    [Theory, MemberData(nameof(LowOrderPoints))]
    public void Low_order_points_give_no_secret(string point)
    {
        var secret = new byte[32];
        Array.Fill(secret, (byte)0xAA);
        Assert.False(OpenSslX25519.TryAgree(AlicePrivate, Convert.FromHexString(point), secret));
        Assert.All(secret, b => Assert.Equal(0, b));
    }

    [Theory, MemberData(nameof(LowOrderPoints))]
    public void Agreement_with_a_low_order_key_share_fails_with_handshake_failure(string point)
    {
        var crypto = new BcTlsCrypto(TestRandom.Create());
        var agreement = new PlatformX25519(crypto);
        agreement.GenerateEphemeral();
        agreement.ReceivePeerValue(Convert.FromHexString(point));
        var alert = Assert.IsType<InvalidKeyShareAlert>(Record.Exception(() => agreement.CalculateSecret()));
        Assert.Equal(AlertDescription.handshake_failure, alert.AlertDescription);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void Key_share_of_the_wrong_length_is_an_illegal_parameter(int length)
    {
        var agreement = new PlatformX25519(new BcTlsCrypto(TestRandom.Create()));
        var alert = Assert.Throws<TlsFatalAlert>(() => agreement.ReceivePeerValue(new byte[length]));
        Assert.Equal(AlertDescription.illegal_parameter, alert.AlertDescription);
    }

    [Fact]
    public void Agreement_interoperates_with_bouncycastle_and_draws_its_key_from_the_injected_random()
    {
        var random = TestRandom.Create(out var counter);
        var ours = new PlatformX25519(new BcTlsCrypto(random));
        var theirs = new BcX25519(new BcTlsCrypto(TestRandom.Create()));
        var ourShare = ours.GenerateEphemeral();
        Assert.Equal(32, counter.Bytes);
        ours.ReceivePeerValue(theirs.GenerateEphemeral());
        theirs.ReceivePeerValue(ourShare);
        Assert.Equal(theirs.CalculateSecret().Extract(), ours.CalculateSecret().Extract());
    }
}
