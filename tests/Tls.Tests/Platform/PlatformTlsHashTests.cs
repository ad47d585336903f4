using Apps.Tls.Platform;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Tests.Platform;

/// <summary>The transcript hash on .NET behaves as BouncyCastle's: same digests, clones fork, computing resets.</summary>
public class PlatformTlsHashTests
{
    private static readonly BcTlsCrypto Crypto = new(TestRandom.Create());

    [Theory]
    [InlineData(CryptoHashAlgorithm.sha256)]
    [InlineData(CryptoHashAlgorithm.sha384)]
    public void Clones_fork_and_computing_resets_as_in_bouncycastle(int algorithm)
    {
        var random = TestRandom.Create();
        var ours = PlatformTlsHash.Create(algorithm)!;
        var theirs = Crypto.CreateHash(algorithm);
        for (var step = 0; step < 12; step++)
        {
            var message = new byte[37 * step + 5];
            random.NextBytes(message);
            ours.Update(message, 2, message.Length - 2);
            theirs.Update(message, 2, message.Length - 2);
            ours.Update(message.AsSpan(0, 2));
            theirs.Update(message.AsSpan(0, 2));

            // A fork's hash leaves the original running, as the transcript needs at each Finished.
            var (ourFork, theirFork) = (ours.CloneHash(), theirs.CloneHash());
            Assert.Equal(theirFork.CalculateHash(), ourFork.CalculateHash());
            ourFork.Update(message);
            theirFork.Update(message);
            Assert.Equal(theirFork.CalculateHash(), ourFork.CalculateHash()); // computed from empty after the reset
        }

        Assert.Equal(theirs.CalculateHash(), ours.CalculateHash());
        ours.Update([1, 2, 3]);
        ours.Reset();
        theirs.Reset();
        Assert.Equal(theirs.CalculateHash(), ours.CalculateHash());
    }

    [Fact]
    public void Other_algorithms_are_left_to_bouncycastle()
    {
        Assert.Null(PlatformTlsHash.Create(CryptoHashAlgorithm.sha1));
        Assert.Null(PlatformTlsHash.Create(CryptoHashAlgorithm.sha512));
    }
}

/// <summary>HMAC on .NET against BouncyCastle's: same MACs, and computing one resets to the keyed state.</summary>
public class PlatformTlsHmacTests
{
    private static readonly BcTlsCrypto Crypto = new(TestRandom.Create());

    [Theory]
    [InlineData(CryptoHashAlgorithm.sha256)]
    [InlineData(CryptoHashAlgorithm.sha384)]
    public void Macs_match_bouncycastle_and_reset_after_each(int algorithm)
    {
        var random = TestRandom.Create();
        var ours = PlatformTlsHmac.Create(algorithm)!;
        var theirs = Crypto.CreateHmacForHash(algorithm);
        Assert.Equal(theirs.MacLength, ours.MacLength);
        Assert.Equal(theirs.InternalBlockSize, ours.InternalBlockSize);
        foreach (var keyLength in new[] { 0, 32, 48, 200 })
        {
            var key = new byte[keyLength + 4];
            random.NextBytes(key);
            ours.SetKey(key, 2, keyLength);
            theirs.SetKey(key, 2, keyLength);
            for (var i = 0; i < 3; i++)
            {
                var data = new byte[50 * i + 1];
                random.NextBytes(data);
                ours.Update(data, 0, data.Length);
                theirs.Update(data, 0, data.Length);
                var output = new byte[ours.MacLength + 3];
                ours.CalculateMac(output, 3);
                Assert.Equal(theirs.CalculateMac(), output[3..]);
            }

            ours.Update([9, 9]);
            ours.Reset();
            ours.Update([1]);
            theirs.Update([1]);
            Assert.Equal(theirs.CalculateMac(), ours.CalculateMac());
        }
    }

    [Fact]
    public void Use_before_a_key_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() => PlatformTlsHmac.Create(CryptoHashAlgorithm.sha256)!.Update([1]));
        Assert.Null(PlatformTlsHmac.Create(CryptoHashAlgorithm.sha1));
    }
}
