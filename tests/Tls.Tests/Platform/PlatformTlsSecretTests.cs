using Apps.Tls.Platform;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Tests.Platform;

/// <summary>HKDF on .NET against RFC 5869's vectors and BouncyCastle's own secrets.</summary>
public class PlatformTlsSecretTests
{
    private static readonly BcTlsCrypto Crypto = new(TestRandom.Create());

    [Fact]
    public void Rfc5869_test_case_1_is_reproduced()
    {
        // RFC 5869 Appendix A.1 (SHA-256).
        var salt = new PlatformTlsSecret(Crypto, Convert.FromHexString("000102030405060708090a0b0c"));
        var ikm = new PlatformTlsSecret(Crypto, Enumerable.Repeat((byte)0x0b, 22).ToArray());
        var prk = salt.HkdfExtract(CryptoHashAlgorithm.sha256, ikm);
        var okm = prk.HkdfExpand(CryptoHashAlgorithm.sha256, Convert.FromHexString("f0f1f2f3f4f5f6f7f8f9"), 42);
        Assert.Equal(Convert.FromHexString("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"), okm.Extract());
        Assert.Equal(Convert.FromHexString("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"), prk.Extract());
    }

    [Theory]
    [InlineData(CryptoHashAlgorithm.sha256)]
    [InlineData(CryptoHashAlgorithm.sha384)]
    public void Derivations_match_bouncycastle(int hash)
    {
        var random = TestRandom.Create();
        foreach (var length in new[] { 1, 12, 16, 32, 48, 100, 255 * TlsCryptoUtilities.GetHashOutputSize(hash) })
        {
            var key = new byte[TlsCryptoUtilities.GetHashOutputSize(hash)];
            var info = new byte[length % 40];
            random.NextBytes(key);
            random.NextBytes(info);
            Assert.Equal(
                new BcTlsSecret(Crypto, (byte[])key.Clone()).HkdfExpand(hash, info, length).Extract(),
                new PlatformTlsSecret(Crypto, (byte[])key.Clone()).HkdfExpand(hash, info, length).Extract());

            var ikm = new byte[length % 70];
            random.NextBytes(ikm);
            Assert.Equal(
                new BcTlsSecret(Crypto, (byte[])key.Clone()).HkdfExtract(hash, new BcTlsSecret(Crypto, (byte[])ikm.Clone())).Extract(),
                new PlatformTlsSecret(Crypto, (byte[])key.Clone()).HkdfExtract(hash, new PlatformTlsSecret(Crypto, (byte[])ikm.Clone())).Extract());
        }
    }

    [Fact]
    public void Tls13_expand_label_matches_bouncycastle_and_stays_on_the_platform()
    {
        var key = new byte[48];
        TestRandom.Create().NextBytes(key);
        var ours = TlsCryptoUtilities.HkdfExpandLabel(new PlatformTlsSecret(Crypto, (byte[])key.Clone()), CryptoHashAlgorithm.sha384, "c hs traffic", new byte[48], 48);
        var theirs = TlsCryptoUtilities.HkdfExpandLabel(new BcTlsSecret(Crypto, (byte[])key.Clone()), CryptoHashAlgorithm.sha384, "c hs traffic", new byte[48], 48);
        Assert.IsType<PlatformTlsSecret>(ours);
        Assert.Equal(theirs.Extract(), ours.Extract());
    }

    [Fact]
    public void Limits_and_use_once_rules_are_bouncycastles()
    {
        var secret = new PlatformTlsSecret(Crypto, new byte[32]);
        Assert.Empty(secret.HkdfExpand(CryptoHashAlgorithm.sha256, [], 0).Extract());
        Assert.Throws<ArgumentException>(() => secret.HkdfExpand(CryptoHashAlgorithm.sha256, [], 255 * 32 + 1));

        var salt = new PlatformTlsSecret(Crypto, new byte[32]);
        var ikm = new PlatformTlsSecret(Crypto, new byte[32]);
        salt.HkdfExtract(CryptoHashAlgorithm.sha256, ikm);
        Assert.Throws<InvalidOperationException>(() => salt.Extract()); // the salt is used up, as in BouncyCastle
        Assert.Equal(new byte[32], ikm.Extract()); // the input keying material is only read
    }

    [Fact]
    public void Other_hashes_fall_back_to_bouncycastle()
    {
        var key = new byte[20];
        Assert.Equal(
            new BcTlsSecret(Crypto, (byte[])key.Clone()).HkdfExpand(CryptoHashAlgorithm.sha1, [1, 2], 30).Extract(),
            new PlatformTlsSecret(Crypto, (byte[])key.Clone()).HkdfExpand(CryptoHashAlgorithm.sha1, [1, 2], 30).Extract());
    }
}
