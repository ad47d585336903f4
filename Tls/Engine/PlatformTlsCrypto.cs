using System.Security.Cryptography;
using Apps.Tls.Platform;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Engine;

/// <summary>
/// BouncyCastle's TLS crypto with the costly primitives moved to the platform: OpenSSL through .NET, or libcrypto
/// directly for the elliptic-curve arithmetic (.NET 10 has no X25519, and its EC key import costs more than the math). With <paramref name="aead"/>: record AEADs (AES-GCM, RFC
/// 5288/8446; ChaCha20-Poly1305, RFC 7905/8439) by .NET's hardware-accelerated <see cref="AesGcm"/> and
/// <see cref="ChaCha20Poly1305"/>; BouncyCastle still derives keys, nonces and additional data. With
/// <paramref name="handshake"/>: ECDHE on X25519 (<see cref="PlatformX25519"/>, when libcrypto loads), P-256 and P-384
/// (<see cref="PlatformEcdh"/>, when libcrypto loads); the server's ECDSA signatures take their k·G from OpenSSL
/// (<see cref="PlatformEcdsaSigner"/>), HKDF, HMAC and the transcript hash run on .NET
/// (<see cref="PlatformTlsSecret"/>, <see cref="PlatformTlsHmac"/>, <see cref="PlatformTlsHash"/>). Every private key is
/// still drawn from <paramref name="random"/>.
/// </summary>
internal sealed class PlatformTlsCrypto(SecureRandom random, bool aead, bool handshake) : BcTlsCrypto(random)
{
    /// <summary>Whether ECDHE and ECDSA signing use the platform.</summary>
    public bool PlatformHandshake => handshake;

    public override TlsECDomain CreateECDomain(TlsECConfig ecConfig) => ecConfig.NamedGroup switch
    {
        NamedGroup.x25519 when handshake && OpenSslX25519.IsAvailable => new PlatformX25519Domain(this),
        var group when handshake && PlatformEcdhDomain.CurveFor(group) is { } curve => new PlatformEcdhDomain(this, ecConfig, curve),
        _ => base.CreateECDomain(ecConfig),
    };

    /// <summary>With the platform handshake, a peer's ECDSA CertificateVerify on P-256/P-384 is checked by OpenSSL.</summary>
    public override TlsCertificate CreateCertificate(short type, byte[] encoding) =>
        handshake && type == CertificateType.X509 ? new PlatformTlsCertificate(this, encoding) : base.CreateCertificate(type, encoding);

    /// <summary>With the platform handshake, SHA-256 and SHA-384 running hashes (the transcript) are .NET's.</summary>
    public override TlsHash CreateHash(int cryptoHashAlgorithm) =>
        (handshake ? PlatformTlsHash.Create(cryptoHashAlgorithm) : null) ?? base.CreateHash(cryptoHashAlgorithm);

    /// <summary>With the platform handshake, HMAC-SHA-256/384 (the Finished MACs) is .NET's.</summary>
    public override TlsHmac CreateHmacForHash(int cryptoHashAlgorithm) =>
        (handshake ? PlatformTlsHmac.Create(cryptoHashAlgorithm) : null) ?? base.CreateHmacForHash(cryptoHashAlgorithm);

    /// <summary>With the platform handshake, secrets do their HKDF on .NET (<see cref="PlatformTlsSecret"/>).</summary>
    public override TlsSecret CreateSecret(byte[] data) =>
        handshake ? new PlatformTlsSecret(this, (byte[])data.Clone()) : base.CreateSecret(data);

    /// <summary>RFC 8446 §7.1: the key schedule starts from a string of Hash.length zero bytes.</summary>
    public override TlsSecret HkdfInit(int cryptoHashAlgorithm) =>
        handshake ? new PlatformTlsSecret(this, new byte[TlsCryptoUtilities.GetHashOutputSize(cryptoHashAlgorithm)]) : base.HkdfInit(cryptoHashAlgorithm);

    protected override TlsAeadCipher CreateCipher_Aes_Gcm(TlsCryptoParameters cryptoParams, int cipherKeySize, int macSize) =>
        aead && AesGcm.IsSupported && macSize == PlatformAeadCipher.TagSize
            ? new PlatformAeadRecordCipher(cryptoParams, new PlatformAeadCipher(true, false), new PlatformAeadCipher(false, false),
                cipherKeySize, macSize, TlsAeadCipher.AEAD_GCM)
            : base.CreateCipher_Aes_Gcm(cryptoParams, cipherKeySize, macSize);

    protected override TlsCipher CreateChaCha20Poly1305(TlsCryptoParameters cryptoParams) =>
        aead && ChaCha20Poly1305.IsSupported
            ? new PlatformAeadRecordCipher(cryptoParams, new PlatformAeadCipher(true, true), new PlatformAeadCipher(false, true),
                32, PlatformAeadCipher.TagSize, TlsAeadCipher.AEAD_CHACHA20_POLY1305)
            : base.CreateChaCha20Poly1305(cryptoParams);
}

/// <summary>
/// BouncyCastle's record AEAD with one change on the sending side: each record is sealed in place in a
/// buffer this cipher keeps and reuses, where <see cref="TlsAeadCipher"/> allocates a new record-sized
/// array per record. Reuse is safe because BouncyCastle's <c>RecordStream.WriteRecord</c> copies the
/// encoded record to its output before it asks for the next one. Nonces (RFC 5288 §3, RFC 7905 §2,
/// RFC 8446 §5.3) and additional data are built exactly as the base class builds them.
/// </summary>
internal sealed class PlatformAeadRecordCipher : TlsAeadCipher
{
    private const int NonceRfc5288 = 1;

    private readonly PlatformAeadCipher _sealer;
    private readonly byte[] _nonce;
    private byte[] _record = [];

    public PlatformAeadRecordCipher(TlsCryptoParameters cryptoParams, PlatformAeadCipher encrypt, PlatformAeadCipher decrypt,
        int keySize, int macSize, int aeadType)
        : base(cryptoParams, encrypt, decrypt, keySize, macSize, aeadType)
    {
        _sealer = encrypt;
        _nonce = new byte[m_encryptNonce.Length + m_record_iv_length];
    }

    public override TlsEncodeResult EncodePlaintext(long seqNo, short contentType, ProtocolVersion recordVersion, int headerAllocation, ReadOnlySpan<byte> plaintext)
    {
        if (m_nonceMode == NonceRfc5288)
        {
            // RFC 5288 §3: salt from the key block, then the 8-byte explicit nonce (our sequence number).
            m_encryptNonce.CopyTo(_nonce, 0);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(_nonce.AsSpan(m_encryptNonce.Length), seqNo);
        }
        else
        {
            // RFC 7905 §2 / RFC 8446 §5.3: the padded sequence number XORed into the static IV.
            Array.Clear(_nonce);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(_nonce.AsSpan(_nonce.Length - 8), seqNo);
            for (var i = 0; i < m_encryptNonce.Length; i++)
            {
                _nonce[i] ^= m_encryptNonce[i];
            }
        }

        var innerLength = plaintext.Length + (m_encryptUseInnerPlaintext ? 1 : 0);
        var ciphertextLength = m_record_iv_length + innerLength + m_macSize;
        var total = headerAllocation + ciphertextLength;
        if (_record.Length < total)
        {
            // Grown as records demand: a handshake's records are small, and two ciphers per TLS 1.3 connection
            // each holding a full 16 KiB buffer cost more than the handshake itself under a burst of new connections.
            var full = headerAllocation + 8 + RecordSizeLimit.MaxPlaintext + 1 + m_macSize;
            _record = new byte[Math.Min(full, Math.Max(total, Math.Max(1024, 2 * _record.Length)))];
            if (_record.Length < total)
            {
                _record = new byte[total];
            }
        }

        var at = headerAllocation;
        if (m_record_iv_length != 0)
        {
            _nonce.AsSpan(_nonce.Length - m_record_iv_length).CopyTo(_record.AsSpan(at));
            at += m_record_iv_length;
        }

        // RFC 8446 §5.2 opaque_type (23); 25 is DTLS 1.2's tls12_cid, which a TLS connection never has.
        var recordType = !m_encryptUseInnerPlaintext ? contentType : m_isTlsV13 ? ContentType.application_data : (short)25;
        var additionalData = GetAdditionalData(seqNo, recordType, recordVersion, ciphertextLength, innerLength, m_encryptConnectionID);
        plaintext.CopyTo(_record.AsSpan(at));
        if (m_encryptUseInnerPlaintext)
        {
            // RFC 8446 §5.2: TLSInnerPlaintext carries the real content type after the content.
            _record[at + plaintext.Length] = (byte)contentType;
        }

        _sealer.Seal(_nonce, additionalData, _record.AsSpan(at, innerLength), _record.AsSpan(at + innerLength, m_macSize));
        return new TlsEncodeResult(_record, 0, total, recordType);
    }
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

    /// <summary>Seals <paramref name="data"/> in place and writes the tag (the nonce is the caller's, not Init's).</summary>
    public void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> additionalData, Span<byte> data, Span<byte> tag)
    {
        if (_aes is not null)
        {
            _aes.Encrypt(nonce, data, data, tag, additionalData);
        }
        else
        {
            _chaCha!.Encrypt(nonce, data, data, tag, additionalData);
        }
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
