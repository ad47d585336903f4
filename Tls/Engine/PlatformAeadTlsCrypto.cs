using System.Security.Cryptography;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Engine;

/// <summary>
/// BouncyCastle's TLS crypto with the record-layer AEADs (AES-GCM, RFC 5288/8446; ChaCha20-Poly1305,
/// RFC 7905/8439) done by .NET's hardware-accelerated <see cref="AesGcm"/> and <see cref="ChaCha20Poly1305"/>.
/// BouncyCastle still derives the keys and builds nonces and additional data; only the sealing moves.
/// </summary>
internal sealed class PlatformAeadTlsCrypto(SecureRandom random) : BcTlsCrypto(random)
{
    protected override TlsAeadCipher CreateCipher_Aes_Gcm(TlsCryptoParameters cryptoParams, int cipherKeySize, int macSize) =>
        AesGcm.IsSupported && macSize == PlatformAeadCipher.TagSize
            ? new TlsAeadCipher(cryptoParams, new PlatformAeadCipher(true, false), new PlatformAeadCipher(false, false),
                cipherKeySize, macSize, TlsAeadCipher.AEAD_GCM)
            : base.CreateCipher_Aes_Gcm(cryptoParams, cipherKeySize, macSize);

    protected override TlsCipher CreateChaCha20Poly1305(TlsCryptoParameters cryptoParams) =>
        ChaCha20Poly1305.IsSupported
            ? new TlsAeadCipher(cryptoParams, new PlatformAeadCipher(true, true), new PlatformAeadCipher(false, true),
                32, PlatformAeadCipher.TagSize, TlsAeadCipher.AEAD_CHACHA20_POLY1305)
            : base.CreateChaCha20Poly1305(cryptoParams);
}

/// <summary>One direction of a record AEAD over .NET's primitives; tags are 16 bytes, appended to the ciphertext.</summary>
internal sealed class PlatformAeadCipher(bool encrypting, bool chaCha) : TlsAeadCipherImpl
{
    public const int TagSize = 16;

    private AesGcm? _aes;
    private ChaCha20Poly1305? _chaCha;
    private byte[] _nonce = [];
    private byte[]? _additionalData;

    public void SetKey(byte[] key, int keyOff, int keyLen) => SetKey(key.AsSpan(keyOff, keyLen));

    public void SetKey(ReadOnlySpan<byte> key)
    {
        _aes?.Dispose();
        _chaCha?.Dispose();
        _aes = chaCha ? null : new AesGcm(key, TagSize);
        _chaCha = chaCha ? new ChaCha20Poly1305(key) : null;
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
            if (_aes is not null)
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
}
