using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl;

namespace Apps.Tls.Engine;

/// <summary>
/// One direction of a record AEAD over the platform's primitives; tags are 16 bytes, appended to the ciphertext.
/// Sealing with AES-GCM goes to OpenSSL's EVP interface directly when libcrypto is there (OpenSslAesGcmSealer: the
/// plaintext may come in two pieces, and it took 0.41-0.48 of the time of a copy and .NET's AesGcm in
/// Tls13RecordSealBench), records up to 1 KiB to BouncyCastle's managed GCM, the rest to .NET's AesGcm.
/// </summary>
internal sealed class PlatformAeadCipher(bool encrypting, bool chaCha) : TlsAeadCipherImpl
{
    public const int TagSize = 16;

    private AesGcm? _aes;
    private ChaCha20Poly1305? _chaCha;
    private SmallRecordGcm? _small;
    private Platform.OpenSslAesGcmSealer? _split;
    private byte[] _nonce = [];
    private byte[]? _additionalData;

    public void SetKey(byte[] key, int keyOff, int keyLen) => SetKey(key.AsSpan(keyOff, keyLen));

    public void SetKey(ReadOnlySpan<byte> key)
    {
        _aes?.Dispose();
        _chaCha?.Dispose();
        _aes = chaCha ? null : new AesGcm(key, TagSize);
        _chaCha = chaCha ? new ChaCha20Poly1305(key) : null;
        if (!chaCha && SmallRecordGcm.IsHardwareAccelerated)
        {
            (_small ??= new SmallRecordGcm(encrypting)).SetKey(key);
        }

        _split?.Dispose();
        _split = encrypting && !chaCha && Platform.OpenSslAesGcmSealer.IsAvailable ? new Platform.OpenSslAesGcmSealer(key) : null;
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
        else if (_split is not null && !plaintext.Overlaps(ciphertext))
        {
            _split.Seal(nonce, additionalData, plaintext, default, ciphertext, tag);
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
    /// False, with nothing written, when this cipher takes only one contiguous plaintext (ChaCha20-Poly1305, records
    /// small enough for the managed GCM, no libcrypto): the caller then copies the two together.
    /// </summary>
    public bool TrySealWithType(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> additionalData, ReadOnlySpan<byte> content, byte contentType,
        Span<byte> ciphertext, Span<byte> tag)
    {
        if (_split is null || (_small is not null && content.Length + 1 <= SmallRecordGcm.Limit) || content.Overlaps(ciphertext))
        {
            return false;
        }

        _split.Seal(nonce, additionalData, content, new ReadOnlySpan<byte>(in contentType), ciphertext, tag);
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
            var plaintext = input.AsSpan(inputOffset, inputLength);
            var ciphertext = output.AsSpan(outputOffset, inputLength);
            var tag = output.AsSpan(outputOffset + inputLength, TagSize);
            if (_split is not null && !plaintext.Overlaps(ciphertext))
            {
                _split.Seal(_nonce, aad, plaintext, default, ciphertext, tag);
            }
            else if (_aes is not null)
            {
                _aes.Encrypt(_nonce, plaintext, ciphertext, tag, aad);
            }
            else
            {
                _chaCha!.Encrypt(_nonce, plaintext, ciphertext, tag, aad);
            }

            return inputLength + TagSize;
        }

        if (inputLength < TagSize)
        {
            throw new TlsFatalAlert(AlertDescription.bad_record_mac);
        }

        var length = inputLength - TagSize;
        if (_small is not null && length <= SmallRecordGcm.Limit)
        {
            _small.Open(_nonce, aad, input.AsSpan(inputOffset, inputLength), output.AsSpan(outputOffset, length));
            return length;
        }

        try
        {
            var sealedData = input.AsSpan(inputOffset, length);
            var receivedTag = input.AsSpan(inputOffset + length, TagSize);
            var opened = output.AsSpan(outputOffset, length);
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
            // RFC 8446 §5.2: a record that fails to deprotect ends the connection with bad_record_mac.
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
