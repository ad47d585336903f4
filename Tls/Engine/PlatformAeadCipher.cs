using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Apps.Tls.Platform;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl;

namespace Apps.Tls.Engine;

/// <summary>
/// One direction of a record AEAD over the platform's primitives; tags are 16 bytes, appended to the ciphertext.
/// Records of every size, AES-GCM and ChaCha20-Poly1305 alike, go to libcrypto's EVP interface directly
/// (<see cref="OpenSslAead"/>: a TLS 1.3 record's content sealed where it lies, nothing allocated, and per record no GC
/// transition on short ones). Without libcrypto.so.3 they go to .NET's AesGcm, with records up to 1 KiB on
/// BouncyCastle's managed GCM (<see cref="SmallRecordGcm"/>), which beats AesGcm's per-call overhead there, or to .NET's
/// ChaCha20Poly1305.
/// </summary>
internal sealed class PlatformAeadCipher(bool encrypting, bool chaCha) : TlsAeadCipherImpl
{
    public const int TagSize = 16;

    private OpenSslAead? _evp;
    private AesGcm? _aes;
    private ChaCha20Poly1305? _chaCha;
    private SmallRecordGcm? _small;
    private byte[] _nonce = [];
    private byte[]? _additionalData;

    public void SetKey(byte[] key, int keyOff, int keyLen) => SetKey(key.AsSpan(keyOff, keyLen));

    public void SetKey(ReadOnlySpan<byte> key)
    {
        _evp?.Dispose();
        _aes?.Dispose();
        _chaCha?.Dispose();
        _evp = null;
        _aes = null;
        _chaCha = null;
        if (chaCha)
        {
            if (OpenSslAead.IsChaChaAvailable)
            {
                _evp = new OpenSslAead(key, encrypting, chaCha: true);
            }
            else
            {
                _chaCha = new ChaCha20Poly1305(key);
            }

            return;
        }

        if (OpenSslAead.IsAvailable)
        {
            _evp = new OpenSslAead(key, encrypting);
            return;
        }

        _aes = new AesGcm(key, TagSize);
        if (SmallRecordGcm.IsHardwareAccelerated)
        {
            (_small ??= new SmallRecordGcm(encrypting)).SetKey(key);
        }
    }

    public void Init(byte[] nonce, int macSize, byte[]? additionalData)
    {
        if (macSize != TagSize)
        {
            throw new TlsFatalAlert(AlertDescription.internal_error, "only 16-byte AEAD tags are supported");
        }

        _nonce = nonce;
        _additionalData = additionalData;
    }

    /// <summary>Seals <paramref name="data"/> in place and writes the tag (the nonce is the caller's, not Init's).</summary>
    public void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> additionalData, Span<byte> data, Span<byte> tag) =>
        Seal(nonce, additionalData, data, data, tag);

    /// <summary>Seals <paramref name="plaintext"/> into <paramref name="ciphertext"/> (the same length; they may be the
    /// same memory) and writes the tag.</summary>
    public void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> additionalData, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag)
    {
        if (_small is not null && plaintext.Length <= SmallRecordGcm.Limit && FollowsDirectly(ciphertext, tag))
        {
            _small.Seal(nonce, additionalData, plaintext, MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(ciphertext), ciphertext.Length + TagSize));
        }
        else if (_evp is not null)
        {
            _evp.Seal(nonce, additionalData, plaintext, default, ciphertext, tag);
        }
        else if (_aes is not null)
        {
            _aes.Encrypt(nonce, plaintext, ciphertext, tag, additionalData);
        }
        else
        {
            _chaCha!.Encrypt(nonce, plaintext, ciphertext, tag, additionalData);
        }
    }

    /// <summary>
    /// Seals a TLS 1.3 record's <paramref name="content"/> where it lies and its <paramref name="contentType"/> after
    /// it (RFC 8446 §5.2) into <paramref name="ciphertext"/>, one byte longer than the content, and writes the tag.
    /// False, with nothing written, when this cipher takes only one contiguous plaintext (either AEAD without libcrypto)
    /// or the two overlap: the caller then puts them together itself.
    /// </summary>
    public bool TrySealWithType(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> additionalData, ReadOnlySpan<byte> content, byte contentType,
        Span<byte> ciphertext, Span<byte> tag)
    {
        if (_evp is null || content.Overlaps(ciphertext))
        {
            return false;
        }

        _evp.Seal(nonce, additionalData, content, new ReadOnlySpan<byte>(in contentType), ciphertext, tag);
        return true;
    }

    public int GetOutputSize(int inputLength) => encrypting ? inputLength + TagSize : Math.Max(0, inputLength - TagSize);

    public int DoFinal(byte[] input, int inputOffset, int inputLength, byte[] output, int outputOffset) =>
        DoFinal(null, input, inputOffset, inputLength, output, outputOffset);

    public int DoFinal(byte[]? additionalData, byte[] input, int inputOffset, int inputLength, byte[] output, int outputOffset)
    {
        var aad = additionalData ?? _additionalData ?? [];
        if (encrypting)
        {
            Seal(_nonce, aad, input.AsSpan(inputOffset, inputLength), output.AsSpan(outputOffset, inputLength),
                output.AsSpan(outputOffset + inputLength, TagSize));
            return inputLength + TagSize;
        }

        if (inputLength < TagSize)
        {
            throw new TlsFatalAlert(AlertDescription.bad_record_mac);
        }

        var length = inputLength - TagSize;
        var sealedData = input.AsSpan(inputOffset, length);
        var receivedTag = input.AsSpan(inputOffset + length, TagSize);
        var opened = output.AsSpan(outputOffset, length);
        if (_small is not null && length <= SmallRecordGcm.Limit)
        {
            _small.Open(_nonce, aad, input.AsSpan(inputOffset, inputLength), opened);
            return length;
        }

        if (_evp is not null)
        {
            if (!_evp.Open(_nonce, aad, sealedData, receivedTag, opened))
            {
                // RFC 8446 §5.2: a record that fails to deprotect ends the connection with bad_record_mac.
                throw new TlsFatalAlert(AlertDescription.bad_record_mac);
            }

            return length;
        }

        try
        {
            if (_aes is not null)
            {
                _aes.Decrypt(_nonce, sealedData, receivedTag, opened, aad);
            }
            else
            {
                _chaCha!.Decrypt(_nonce, sealedData, receivedTag, opened, aad);
            }
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new TlsFatalAlert(AlertDescription.bad_record_mac, e);
        }

        return length;
    }

    public void Reset()
    {
    }

    /// <summary>True when <paramref name="tag"/> starts right where <paramref name="ciphertext"/> ends (as in a record).</summary>
    private static bool FollowsDirectly(Span<byte> ciphertext, Span<byte> tag) =>
        tag.Length == TagSize && Unsafe.AreSame(ref Unsafe.Add(ref MemoryMarshal.GetReference(ciphertext), ciphertext.Length), ref MemoryMarshal.GetReference(tag));
}
