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
