using System.Security.Cryptography;
using Apps.Tls.Engine;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Tests.Engine;

/// <summary>
/// The record AEAD the engine uses: with libcrypto there, every record, short or full, AES-GCM or ChaCha20-Poly1305, is
/// sealed where its content lies and opened in place by libcrypto's EVP interface, as .NET's AEADs would, allocating
/// nothing.
/// </summary>
public class PlatformAeadCipherTests
{
    [Theory]
    [InlineData(false, 16, 0)]
    [InlineData(false, 32, 40)] // a small request
    [InlineData(false, 32, 540)] // a small response with its headers
    [InlineData(false, 16, 1024)]
    [InlineData(false, 32, 16384)]
    [InlineData(true, 32, 40)]
    [InlineData(true, 32, 540)]
    [InlineData(true, 32, 16384)]
    public void A_record_of_any_size_is_sealed_where_its_content_lies_and_opened_in_place(bool chaCha, int keyLength, int length)
    {
        var key = RandomNumberGenerator.GetBytes(keyLength);
        var nonce = RandomNumberGenerator.GetBytes(12);
        byte[] aad = [0x17, 0x03, 0x03, 0, 0];
        var content = RandomNumberGenerator.GetBytes(length);
        var expected = SealedByDotNet(chaCha, key, nonce, aad, content);

        var sealer = new PlatformAeadCipher(encrypting: true, chaCha);
        sealer.SetKey(key);
        var record = new byte[length + 1 + 16];
        Assert.True(sealer.TrySealWithType(nonce, aad, content, 23, record.AsSpan(0, length + 1), record.AsSpan(length + 1)));
        Assert.Equal(expected, record);

        var opener = new PlatformAeadCipher(encrypting: false, chaCha);
        opener.SetKey(key);
        opener.Init(nonce, 16, aad);
        Assert.Equal(length + 1, opener.DoFinal(record, 0, record.Length, record, 0));
        Assert.Equal(content, record.AsSpan(0, length).ToArray());
        Assert.Equal(23, record[length]);

        record = (byte[])expected.Clone();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 50; i++)
        {
            sealer.TrySealWithType(nonce, aad, content, 23, record.AsSpan(0, length + 1), record.AsSpan(length + 1));
            opener.DoFinal(record, 0, record.Length, record, 0);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_short_record_with_one_altered_byte_fails_with_bad_record_mac(bool chaCha)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var nonce = RandomNumberGenerator.GetBytes(12);
        byte[] aad = [0x17, 0x03, 0x03, 0, 57];
        var sealer = new PlatformAeadCipher(encrypting: true, chaCha);
        sealer.SetKey(key);
        var record = new byte[41 + 16];
        Assert.True(sealer.TrySealWithType(nonce, aad, new byte[40], 23, record.AsSpan(0, 41), record.AsSpan(41)));
        record[7] ^= 1;

        var opener = new PlatformAeadCipher(encrypting: false, chaCha);
        opener.SetKey(key);
        opener.Init(nonce, 16, aad);
        var alert = Assert.Throws<TlsFatalAlert>(() => opener.DoFinal(record, 0, record.Length, record, 0));
        Assert.Equal(AlertDescription.bad_record_mac, alert.AlertDescription);
    }

    /// <summary>The record .NET's one-shot AEAD makes of <paramref name="content"/> and type 23 (application data).</summary>
    private static byte[] SealedByDotNet(bool chaCha, byte[] key, byte[] nonce, byte[] aad, byte[] content)
    {
        var plaintext = new byte[content.Length + 1];
        content.CopyTo(plaintext, 0);
        plaintext[^1] = 23;
        var expected = new byte[plaintext.Length + 16];
        var ciphertext = expected.AsSpan(0, plaintext.Length);
        var tag = expected.AsSpan(plaintext.Length);
        if (chaCha)
        {
            using var reference = new ChaCha20Poly1305(key);
            reference.Encrypt(nonce, plaintext, ciphertext, tag, aad);
        }
        else
        {
            using var reference = new AesGcm(key, 16);
            reference.Encrypt(nonce, plaintext, ciphertext, tag, aad);
        }

        return expected;
    }
}
