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
    [InlineData(16, 0)]
    [InlineData(32, 40)] // a small request
    [InlineData(32, 540)] // a small response with its headers
    [InlineData(16, 1024)]
    [InlineData(32, 16384)]
    public void A_record_of_any_size_is_sealed_where_its_content_lies_and_opened_in_place(int keyLength, int length)
    {
        var key = RandomNumberGenerator.GetBytes(keyLength);
        var nonce = RandomNumberGenerator.GetBytes(12);
        byte[] aad = [0x17, 0x03, 0x03, 0, 0];
        var content = RandomNumberGenerator.GetBytes(length);
        var expected = new byte[length + 1 + 16];
        using (var reference = new AesGcm(key, 16))
        {
            var plaintext = new byte[length + 1];
            content.CopyTo(plaintext, 0);
            plaintext[^1] = 23;
            reference.Encrypt(nonce, plaintext, expected.AsSpan(0, length + 1), expected.AsSpan(length + 1), aad);
        }

        var sealer = new PlatformAeadCipher(encrypting: true, chaCha: false);
        sealer.SetKey(key);
        var record = new byte[length + 1 + 16];
        Assert.True(sealer.TrySealWithType(nonce, aad, content, 23, record.AsSpan(0, length + 1), record.AsSpan(length + 1)));
        Assert.Equal(expected, record);

        var opener = new PlatformAeadCipher(encrypting: false, chaCha: false);
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

    [Fact]
    public void A_short_record_with_one_altered_byte_fails_with_bad_record_mac()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var nonce = RandomNumberGenerator.GetBytes(12);
        byte[] aad = [0x17, 0x03, 0x03, 0, 57];
        var sealer = new PlatformAeadCipher(encrypting: true, chaCha: false);
        sealer.SetKey(key);
        var record = new byte[41 + 16];
        Assert.True(sealer.TrySealWithType(nonce, aad, new byte[40], 23, record.AsSpan(0, 41), record.AsSpan(41)));
        record[7] ^= 1;

        var opener = new PlatformAeadCipher(encrypting: false, chaCha: false);
        opener.SetKey(key);
        opener.Init(nonce, 16, aad);
        var alert = Assert.Throws<TlsFatalAlert>(() => opener.DoFinal(record, 0, record.Length, record, 0));
        Assert.Equal(AlertDescription.bad_record_mac, alert.AlertDescription);
    }

    [Theory]
    [InlineData(40)]
    [InlineData(540)]
    [InlineData(16384)]
    public void A_ChaCha20_Poly1305_record_is_sealed_where_its_content_lies_too(int length)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var nonce = RandomNumberGenerator.GetBytes(12);
        byte[] aad = [0x17, 0x03, 0x03, 0, 0];
        var content = RandomNumberGenerator.GetBytes(length);
        var plaintext = new byte[length + 1];
        content.CopyTo(plaintext, 0);
        plaintext[^1] = 23;
        var expected = new byte[length + 1 + 16];
        using (var reference = new ChaCha20Poly1305(key))
        {
            reference.Encrypt(nonce, plaintext, expected.AsSpan(0, length + 1), expected.AsSpan(length + 1), aad);
        }

        var sealer = new PlatformAeadCipher(encrypting: true, chaCha: true);
        sealer.SetKey(key);
        var record = new byte[length + 1 + 16];
        Assert.True(sealer.TrySealWithType(nonce, aad, content, 23, record.AsSpan(0, length + 1), record.AsSpan(length + 1)));
        Assert.Equal(expected, record);

        var opener = new PlatformAeadCipher(encrypting: false, chaCha: true);
        opener.SetKey(key);
        opener.Init(nonce, 16, aad);
        Assert.Equal(length + 1, opener.DoFinal(record, 0, record.Length, record, 0));
        Assert.Equal(plaintext, record.AsSpan(0, length + 1).ToArray());
        var altered = (byte[])expected.Clone();
        altered[3] ^= 1;
        var alert = Assert.Throws<TlsFatalAlert>(() => opener.DoFinal(altered, 0, altered.Length, altered, 0));
        Assert.Equal(AlertDescription.bad_record_mac, alert.AlertDescription);
    }
}
