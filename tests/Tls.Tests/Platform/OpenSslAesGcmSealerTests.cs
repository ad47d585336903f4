using System.Security.Cryptography;
using Apps.Tls.Platform;

namespace Apps.Tls.Tests.Platform;

/// <summary>OpenSSL's streaming AES-GCM, fed a record's content and its type byte apart, against .NET's one-shot AesGcm.</summary>
public class OpenSslAesGcmSealerTests
{
    [Fact]
    public void Libcrypto_is_there_and_agrees_with_dotnet()
    {
        Assert.True(OpenSslAesGcmSealer.IsAvailable);
    }

    [Theory]
    [InlineData(16, 0, 1, 5)]
    [InlineData(16, 1, 1, 5)]
    [InlineData(32, 15, 1, 5)]
    [InlineData(32, 16, 1, 5)]
    [InlineData(32, 17, 0, 13)]
    [InlineData(16, 1000, 1, 13)]
    [InlineData(32, 16384, 1, 5)]
    [InlineData(32, 300, 1, 0)]
    public void Two_pieces_seal_as_one_plaintext_does(int keySize, int contentLength, int trailerLength, int aadLength)
    {
        var random = new Random(contentLength * 31 + keySize);
        var key = Bytes(random, keySize);
        using var sealer = new OpenSslAesGcmSealer(key);
        using var reference = new AesGcm(key, OpenSslAesGcmSealer.TagSize);
        for (var record = 0; record < 3; record++) // one context, several records: each nonce starts afresh
        {
            var nonce = Bytes(random, OpenSslAesGcmSealer.NonceSize);
            var aad = Bytes(random, aadLength);
            var content = Bytes(random, contentLength);
            var trailer = Bytes(random, trailerLength);
            var ciphertext = new byte[contentLength + trailerLength];
            var tag = new byte[OpenSslAesGcmSealer.TagSize];

            sealer.Seal(nonce, aad, content, trailer, ciphertext, tag);

            var expected = new byte[ciphertext.Length];
            var expectedTag = new byte[OpenSslAesGcmSealer.TagSize];
            reference.Encrypt(nonce, content.Concat(trailer).ToArray(), expected, expectedTag, aad);
            Assert.Equal(expected, ciphertext);
            Assert.Equal(expectedTag, tag);
            var opened = new byte[ciphertext.Length];
            reference.Decrypt(nonce, ciphertext, tag, opened, aad);
            Assert.Equal(content.Concat(trailer).ToArray(), opened);
        }
    }

    [Fact]
    public void Sealing_allocates_nothing()
    {
        using var sealer = new OpenSslAesGcmSealer(new byte[32]);
        var nonce = new byte[12];
        var content = new byte[16384];
        var record = new byte[16385];
        var tag = new byte[16];
        var aad = new byte[5];
        ReadOnlySpan<byte> type = [23];
        sealer.Seal(nonce, [], content, type, record, tag);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            sealer.Seal(nonce, aad, content, type, record, tag);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Wrong_sizes_and_overlapping_buffers_are_refused()
    {
        using var sealer = new OpenSslAesGcmSealer(new byte[32]);
        var nonce = new byte[12];
        var record = new byte[64];

        Assert.Throws<ArgumentException>(() => sealer.Seal(new byte[11], [], new byte[4], [1], new byte[5], new byte[16]));
        Assert.Throws<ArgumentException>(() => sealer.Seal(nonce, [], new byte[4], [1], new byte[5], new byte[15]));
        Assert.Throws<ArgumentException>(() => sealer.Seal(nonce, [], new byte[4], [1], new byte[4], new byte[16]));
        Assert.Throws<ArgumentException>(() => sealer.Seal(nonce, [], record.AsSpan(0, 8), [1], record.AsSpan(4, 9), new byte[16]));
        Assert.Throws<ArgumentException>(() => new OpenSslAesGcmSealer(new byte[24]));
    }

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
