using System.Security.Cryptography;
using Apps.Tls.Platform;

namespace Apps.Tls.Tests.Platform;

/// <summary>OpenSSL's streaming AES-GCM and ChaCha20-Poly1305 (a record's content and its type byte fed apart) against
/// .NET's one-shot AesGcm and ChaCha20Poly1305, and opening: in place, apart, and refusing every altered byte.</summary>
public class OpenSslAeadTests
{
    [Fact]
    public void Libcrypto_is_there_and_agrees_with_dotnet()
    {
        Assert.True(OpenSslAead.IsAvailable);
        Assert.True(OpenSslAead.IsChaChaAvailable);
    }

    [Theory]
    [InlineData(16, 0, 1, 5)]
    [InlineData(16, 1, 1, 5)]
    [InlineData(32, 15, 1, 5)]
    [InlineData(32, 16, 1, 5)]
    [InlineData(32, 17, 0, 13)]
    [InlineData(16, 1000, 1, 13)]
    [InlineData(32, 16384, 1, 5)]
    [InlineData(32, 4096, 1, 5)] // the last update that skips the GC transition
    [InlineData(32, 4097, 1, 5)] // the first that takes it
    [InlineData(32, 300, 1, 0)]
    [InlineData(16, 0, 0, 13)]
    [InlineData(16, 0, 0, 0)]
    [InlineData(0, 0, 1, 5)] // key size 0: ChaCha20-Poly1305 (32-byte key)
    [InlineData(0, 40, 1, 5)]
    [InlineData(0, 4097, 1, 13)]
    [InlineData(0, 16384, 1, 5)]
    public void Two_pieces_seal_as_one_plaintext_does(int keySize, int contentLength, int trailerLength, int aadLength)
    {
        var random = new Random(contentLength * 31 + keySize);
        var chaCha = keySize == 0;
        var key = Bytes(random, chaCha ? 32 : keySize);
        using var sealer = new OpenSslAead(key, encrypting: true, chaCha);
        using var reference = new Reference(key, chaCha);
        for (var record = 0; record < 3; record++) // one context, several records: each nonce starts afresh
        {
            var nonce = Bytes(random, OpenSslAead.NonceSize);
            var aad = Bytes(random, aadLength);
            var content = Bytes(random, contentLength);
            var trailer = Bytes(random, trailerLength);
            var ciphertext = new byte[contentLength + trailerLength];
            var tag = new byte[OpenSslAead.TagSize];

            sealer.Seal(nonce, aad, content, trailer, ciphertext, tag);

            var expected = new byte[ciphertext.Length];
            var expectedTag = new byte[OpenSslAead.TagSize];
            reference.Encrypt(nonce, content.Concat(trailer).ToArray(), expected, expectedTag, aad);
            Assert.Equal(expected, ciphertext);
            Assert.Equal(expectedTag, tag);
            var opened = new byte[ciphertext.Length];
            reference.Decrypt(nonce, ciphertext, tag, opened, aad);
            Assert.Equal(content.Concat(trailer).ToArray(), opened);
        }
    }

    [Theory]
    [InlineData(16, 0)]
    [InlineData(16, 1)]
    [InlineData(32, 600)]
    [InlineData(16, 4096)]
    [InlineData(16, 4097)]
    [InlineData(32, 16385)]
    [InlineData(0, 0)] // key size 0: ChaCha20-Poly1305
    [InlineData(0, 40)]
    [InlineData(0, 4097)]
    public void What_dotnet_seals_opens_apart_and_in_place_and_any_altered_byte_is_refused(int keySize, int length)
    {
        var random = new Random(length + keySize);
        var chaCha = keySize == 0;
        var key = Bytes(random, chaCha ? 32 : keySize);
        var nonce = Bytes(random, 12);
        var aad = Bytes(random, 5);
        var plaintext = Bytes(random, length);
        var ciphertext = new byte[length];
        var tag = new byte[16];
        using (var reference = new Reference(key, chaCha))
        {
            reference.Encrypt(nonce, plaintext, ciphertext, tag, aad);
        }

        using var opener = new OpenSslAead(key, encrypting: false, chaCha);
        var opened = new byte[length];
        Assert.True(opener.Open(nonce, aad, ciphertext, tag, opened));
        Assert.Equal(plaintext, opened);
        var inPlace = (byte[])ciphertext.Clone();
        Assert.True(opener.Open(nonce, aad, inPlace, tag, inPlace));
        Assert.Equal(plaintext, inPlace);

        var alteredTag = (byte[])tag.Clone();
        alteredTag[15] ^= 1;
        var alteredAad = (byte[])aad.Clone();
        alteredAad[0] ^= 0x80;
        Assert.False(opener.Open(nonce, aad, ciphertext, alteredTag, opened));
        Assert.All(opened, b => Assert.Equal(0, b)); // nothing unauthenticated is left behind
        Assert.False(opener.Open(nonce, alteredAad, ciphertext, tag, opened));
        if (length > 0)
        {
            var alteredCiphertext = (byte[])ciphertext.Clone();
            alteredCiphertext[length / 2] ^= 4;
            Assert.False(opener.Open(nonce, aad, alteredCiphertext, tag, opened));
        }

        // Refusals leave the context usable.
        Assert.True(opener.Open(nonce, aad, ciphertext, tag, opened));
        Assert.Equal(plaintext, opened);
    }

    [Fact]
    public void Sealing_in_place_matches_sealing_apart()
    {
        var key = new byte[32];
        var nonce = new byte[12];
        var content = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        using var sealer = new OpenSslAead(key, encrypting: true);
        var apart = new byte[3000];
        var tagApart = new byte[16];
        sealer.Seal(nonce, [], content, [], apart, tagApart);
        var inPlace = (byte[])content.Clone();
        var tagInPlace = new byte[16];

        sealer.Seal(nonce, [], inPlace, [], inPlace, tagInPlace);

        Assert.Equal(apart, inPlace);
        Assert.Equal(tagApart, tagInPlace);
    }

    [Fact]
    public void Each_instance_works_one_way()
    {
        using var sealer = new OpenSslAead(new byte[16], encrypting: true);
        using var opener = new OpenSslAead(new byte[16], encrypting: false);

        Assert.Throws<InvalidOperationException>(() => sealer.Open(new byte[12], [], new byte[4], new byte[16], new byte[4]));
        Assert.Throws<InvalidOperationException>(() => opener.Seal(new byte[12], [], new byte[4], [], new byte[4], new byte[16]));
    }

    // Short records (a small request or response) and full ones alike: the record layer takes this path for all.
    [Theory]
    [InlineData(40)]
    [InlineData(600)]
    [InlineData(16384)]
    public void Sealing_and_opening_allocate_nothing(int length)
    {
        using var sealer = new OpenSslAead(new byte[32], encrypting: true);
        using var opener = new OpenSslAead(new byte[32], encrypting: false);
        var nonce = new byte[12];
        var content = new byte[length];
        var record = new byte[length + 1];
        var opened = new byte[length + 1];
        var tag = new byte[16];
        var aad = new byte[5];
        ReadOnlySpan<byte> type = [23];
        sealer.Seal(nonce, aad, content, type, record, tag);
        Assert.True(opener.Open(nonce, aad, record, tag, opened));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            sealer.Seal(nonce, aad, content, type, record, tag);
            Assert.True(opener.Open(nonce, aad, record, tag, opened));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Wrong_sizes_and_overlapping_buffers_are_refused()
    {
        using var sealer = new OpenSslAead(new byte[32], encrypting: true);
        var nonce = new byte[12];
        var record = new byte[64];

        Assert.Throws<ArgumentException>(() => sealer.Seal(new byte[11], [], new byte[4], [1], new byte[5], new byte[16]));
        Assert.Throws<ArgumentException>(() => sealer.Seal(nonce, [], new byte[4], [1], new byte[5], new byte[15]));
        Assert.Throws<ArgumentException>(() => sealer.Seal(nonce, [], new byte[4], [1], new byte[4], new byte[16]));
        Assert.Throws<ArgumentException>(() => sealer.Seal(nonce, [], record.AsSpan(0, 8), [1], record.AsSpan(4, 9), new byte[16]));
        Assert.Throws<ArgumentException>(() => sealer.Seal(nonce, [], record.AsSpan(1, 8), record.AsSpan(3, 1), record.AsSpan(1, 9), new byte[16]));
        Assert.Throws<ArgumentException>(() => new OpenSslAead(new byte[24], encrypting: true));
        Assert.Throws<ArgumentException>(() => new OpenSslAead(new byte[16], encrypting: true, chaCha: true));
    }

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>.NET's one-shot AEAD of the same kind, the reference both ways.</summary>
    private sealed class Reference(byte[] key, bool chaCha) : IDisposable
    {
        private readonly AesGcm? _aes = chaCha ? null : new AesGcm(key, OpenSslAead.TagSize);
        private readonly ChaCha20Poly1305? _chaCha = chaCha ? new ChaCha20Poly1305(key) : null;

        public void Encrypt(byte[] nonce, byte[] plaintext, byte[] ciphertext, byte[] tag, byte[] aad)
        {
            if (_aes is not null)
            {
                _aes.Encrypt(nonce, plaintext, ciphertext, tag, aad);
            }
            else
            {
                _chaCha!.Encrypt(nonce, plaintext, ciphertext, tag, aad);
            }
        }

        public void Decrypt(byte[] nonce, byte[] ciphertext, byte[] tag, byte[] plaintext, byte[] aad)
        {
            if (_aes is not null)
            {
                _aes.Decrypt(nonce, ciphertext, tag, plaintext, aad);
            }
            else
            {
                _chaCha!.Decrypt(nonce, ciphertext, tag, plaintext, aad);
            }
        }

        public void Dispose()
        {
            _aes?.Dispose();
            _chaCha?.Dispose();
        }
    }
}
