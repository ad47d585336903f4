using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>
/// AES-GCM (NIST SP 800-38D; RFC 5288, RFC 8446 §5.2) for short records, one direction, by BouncyCastle's managed
/// GCM on AES-NI and PCLMULQDQ. .NET's <see cref="AesGcm"/> goes to OpenSSL 3 through five or six interop calls
/// per record, each clearing OpenSSL's error queue, about 1 µs whatever the size: more than the whole AEAD work of a
/// small HTTP request or response (tests/Bench <c>RecordAeadBench</c>: 100 B in 0.43 µs here against 0.97 µs,
/// 600 B in 0.73 µs against 0.90 µs; at 16 KiB OpenSSL is 4.5 times faster, so larger records stay with it).
/// Used only where both instructions are present, so that GHASH runs without lookup tables (constant time), and only
/// when libcrypto.so.3 cannot be called directly: <see cref="Platform.OpenSslAead"/> is faster at every size and
/// allocates nothing, where this allocates about 650 B per record.
/// </summary>
internal sealed class SmallRecordGcm(bool encrypting)
{
    /// <summary>Records with at most this much plaintext are sealed and opened here.</summary>
    public const int Limit = 1024;

    private const int TagBits = 128;

    private readonly GcmBlockCipher _gcm = new(AesUtilities.CreateEngine());
    private byte[]? _newKey;

    /// <summary>AES-NI and PCLMULQDQ are both there (BouncyCastle's GHASH falls back to tables without the latter).</summary>
    public static bool IsHardwareAccelerated =>
        AesUtilities.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Pclmulqdq.IsSupported && System.Runtime.Intrinsics.X86.Ssse3.IsSupported;

    /// <summary>Takes a new key (a handshake's, or a KeyUpdate's); it is expanded on the next record.</summary>
    public void SetKey(ReadOnlySpan<byte> key)
    {
        if (_newKey is not null)
        {
            CryptographicOperations.ZeroMemory(_newKey);
        }

        _newKey = key.ToArray();
    }

    /// <summary>Seals <paramref name="plaintext"/> into the start of <paramref name="ciphertextAndTag"/> and puts
    /// the 16-byte tag right after it; the two may start at the same place (sealing in place).</summary>
    public void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> additionalData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertextAndTag)
    {
        Start(nonce, additionalData);
        var written = _gcm.ProcessBytes(plaintext, ciphertextAndTag);
        _gcm.DoFinal(ciphertextAndTag[written..]);
    }

    /// <summary>Opens a record body (ciphertext then tag) into <paramref name="plaintext"/>, which may be the same memory.</summary>
    /// <exception cref="TlsFatalAlert">bad_record_mac: the record was not sealed with this key, nonce and additional data
    /// (RFC 8446 §5.2).</exception>
    public void Open(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> additionalData, ReadOnlySpan<byte> ciphertextAndTag, Span<byte> plaintext)
    {
        Start(nonce, additionalData);
        try
        {
            var written = _gcm.ProcessBytes(ciphertextAndTag, plaintext);
            _gcm.DoFinal(plaintext[written..]);
        }
        catch (InvalidCipherTextException e)
        {
            throw new TlsFatalAlert(AlertDescription.bad_record_mac, e);
        }
    }

    private void Start(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> additionalData)
    {
        // A null key keeps the expanded key and GHASH's H from the last Init.
        var key = _newKey is null ? null : new KeyParameter(_newKey);
        _gcm.Init(encrypting, new AeadParameters(key!, TagBits, nonce.ToArray()));
        if (_newKey is not null)
        {
            CryptographicOperations.ZeroMemory(_newKey);
            _newKey = null;
        }

        _gcm.ProcessAadBytes(additionalData);
    }
}
