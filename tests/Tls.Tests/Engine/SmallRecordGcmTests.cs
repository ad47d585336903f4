using System.Security.Cryptography;
using Apps.Tls.Engine;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Tests.Engine;

/// <summary>The managed AES-GCM used for short records agrees with .NET's <see cref="AesGcm"/> byte for byte.</summary>
public class SmallRecordGcmTests
{
    public static TheoryData<int, int> Sizes => new()
    {
        { 16, 0 }, { 16, 1 }, { 32, 15 }, { 32, 16 }, { 16, 17 }, { 32, 100 }, { 32, 600 }, { 16, SmallRecordGcm.Limit },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Seals_exactly_as_platform_aes_gcm(int keyLength, int size)
    {
        var (key, nonce, aad, plaintext) = Inputs(keyLength, size, seed: size);
        var expected = new byte[size + 16];
        using (var platform = new AesGcm(key, 16))
        {
            platform.Encrypt(nonce, plaintext, expected.AsSpan(0, size), expected.AsSpan(size), aad);
        }

        var sealer = new SmallRecordGcm(encrypting: true);
        sealer.SetKey(key);
        var sealedCopy = new byte[size + 16];
        sealer.Seal(nonce, aad, plaintext, sealedCopy);

        // Sealing in place (plaintext already where the ciphertext goes), as the record layer does.
        var inPlace = new byte[size + 16];
        plaintext.CopyTo(inPlace, 0);
        sealer.Seal(NextNonce(nonce), aad, inPlace.AsSpan(0, size), inPlace);
        var expectedNext = new byte[size + 16];
        using (var platform = new AesGcm(key, 16))
        {
            platform.Encrypt(NextNonce(nonce), plaintext, expectedNext.AsSpan(0, size), expectedNext.AsSpan(size), aad);
        }

        Assert.Equal(expected, sealedCopy);
        Assert.Equal(expectedNext, inPlace);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Opens_records_sealed_by_platform_aes_gcm_in_place(int keyLength, int size)
    {
        var (key, nonce, aad, plaintext) = Inputs(keyLength, size, seed: 1000 + size);
        var record = new byte[size + 16];
        using (var platform = new AesGcm(key, 16))
        {
            platform.Encrypt(nonce, plaintext, record.AsSpan(0, size), record.AsSpan(size), aad);
        }

        var opener = new SmallRecordGcm(encrypting: false);
        opener.SetKey(key);
        opener.Open(nonce, aad, record, record.AsSpan(0, size));

        Assert.Equal(plaintext, record.AsSpan(0, size).ToArray());
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("tag")]
    [InlineData("additional data")]
    [InlineData("nonce")]
    public void Any_altered_part_fails_with_bad_record_mac(string part)
    {
        var (key, nonce, aad, plaintext) = Inputs(16, 200, seed: 7);
        var record = new byte[200 + 16];
        using (var platform = new AesGcm(key, 16))
        {
            platform.Encrypt(nonce, plaintext, record.AsSpan(0, 200), record.AsSpan(200), aad);
        }

        switch (part)
        {
            case "ciphertext": record[10] ^= 1; break;
            case "tag": record[^1] ^= 0x80; break;
            case "additional data": aad[0] ^= 1; break;
            default: nonce[^1] ^= 1; break;
        }

        var opener = new SmallRecordGcm(encrypting: false);
        opener.SetKey(key);
        var error = Assert.Throws<TlsFatalAlert>(() => opener.Open(nonce, aad, record, new byte[200]));
        Assert.Equal(AlertDescription.bad_record_mac, error.AlertDescription);
    }

    [Fact]
    public void A_new_key_takes_effect_on_the_next_record()
    {
        var (first, nonce, aad, plaintext) = Inputs(32, 64, seed: 3);
        var second = RandomNumberGenerator.GetBytes(32);
        var sealer = new SmallRecordGcm(encrypting: true);
        sealer.SetKey(first);
        sealer.Seal(nonce, aad, plaintext, new byte[64 + 16]);
        sealer.SetKey(second);
        var record = new byte[64 + 16];
        sealer.Seal(NextNonce(nonce), aad, plaintext, record);

        var opened = new byte[64];
        using var platform = new AesGcm(second, 16);
        platform.Decrypt(NextNonce(nonce), record.AsSpan(0, 64), record.AsSpan(64), opened, aad);
        Assert.Equal(plaintext, opened);
    }

    private static (byte[] Key, byte[] Nonce, byte[] Aad, byte[] Plaintext) Inputs(int keyLength, int size, int seed)
    {
        var random = new Random(seed);
        var key = new byte[keyLength];
        var nonce = new byte[12];
        var aad = new byte[size % 2 == 0 ? 5 : 13];
        var plaintext = new byte[size];
        random.NextBytes(key);
        random.NextBytes(nonce);
        random.NextBytes(aad);
        random.NextBytes(plaintext);
        return (key, nonce, aad, plaintext);
    }

    private static byte[] NextNonce(byte[] nonce)
    {
        var next = (byte[])nonce.Clone();
        next[^1] ^= 0x55;
        return next;
    }
}
