using System.Buffers;
using System.Buffers.Binary;
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
/// (<see cref="PlatformEcdh"/>, when libcrypto loads); the server's ECDSA signatures take their k·G and s from OpenSSL
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
/// BouncyCastle's record AEAD with two changes on the sending side: application data the engine writes is sealed
/// straight into the engine's writer (<see cref="DirectRecordTarget"/>), and any other record is sealed in place in a
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
    private readonly byte[] _bareHeader = new byte[DirectRecordTarget.HeaderLength];

    public PlatformAeadRecordCipher(TlsCryptoParameters cryptoParams, PlatformAeadCipher encrypt, PlatformAeadCipher decrypt,
        int keySize, int macSize, int aeadType)
        : base(cryptoParams, encrypt, decrypt, keySize, macSize, aeadType)
    {
        _sealer = encrypt;
        _nonce = new byte[m_encryptNonce.Length + m_record_iv_length];
    }

    public override TlsEncodeResult EncodePlaintext(long seqNo, short contentType, ProtocolVersion recordVersion, int headerAllocation, ReadOnlySpan<byte> plaintext)
    {
        BuildNonce(seqNo);
        var innerLength = plaintext.Length + (m_encryptUseInnerPlaintext ? 1 : 0);
        var ciphertextLength = m_record_iv_length + innerLength + m_macSize;
        var total = headerAllocation + ciphertextLength;
        // RFC 8446 §5.2 opaque_type (23); 25 is DTLS 1.2's tls12_cid, which a TLS connection never has.
        var recordType = !m_encryptUseInnerPlaintext ? contentType : m_isTlsV13 ? ContentType.application_data : (short)25;

        if (contentType == ContentType.application_data && DirectRecordTarget.Take() is { } target
            && TrySealInto(target, seqNo, recordType, recordVersion, headerAllocation, plaintext))
        {
            // The record is in the caller's writer; BouncyCastle frames and queues an empty record in its place,
            // which the protocol drops (see DirectRecordTarget).
            DirectRecordTarget.Sealed();
            return new TlsEncodeResult(_bareHeader, 0, DirectRecordTarget.HeaderLength, recordType);
        }

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

    /// <summary>The per-record nonce for <paramref name="seqNo"/> into <see cref="_nonce"/>.</summary>
    private void BuildNonce(long seqNo)
    {
        if (m_nonceMode == NonceRfc5288)
        {
            // RFC 5288 §3: salt from the key block, then the 8-byte explicit nonce (our sequence number).
            m_encryptNonce.CopyTo(_nonce, 0);
            BinaryPrimitives.WriteInt64BigEndian(_nonce.AsSpan(m_encryptNonce.Length), seqNo);
        }
        else
        {
            // RFC 7905 §2 / RFC 8446 §5.3: the padded sequence number XORed into the static IV.
            Array.Clear(_nonce);
            BinaryPrimitives.WriteInt64BigEndian(_nonce.AsSpan(_nonce.Length - 8), seqNo);
            for (var i = 0; i < m_encryptNonce.Length; i++)
            {
                _nonce[i] ^= m_encryptNonce[i];
            }
        }
    }

    /// <summary>
    /// Writes the whole protected record, header included, into <paramref name="target"/>: the header as
    /// BouncyCastle's RecordStream writes it, the additional data as <c>GetAdditionalData</c> builds it (RFC 8446 §5.2:
    /// the record header; RFC 5246 §6.2.3.3: seq_num, type, version and plaintext length), and the plaintext is sealed
    /// from where it lies, without a copy (in TLS 1.3, when the cipher takes the content and its type apart). False
    /// (nothing written) when the writer cannot give one contiguous span for the record, or for a DTLS connection ID.
    /// </summary>
    private bool TrySealInto(IBufferWriter<byte> target, long seqNo, short recordType, ProtocolVersion recordVersion,
        int headerAllocation, ReadOnlySpan<byte> plaintext)
    {
        var innerLength = plaintext.Length + (m_encryptUseInnerPlaintext ? 1 : 0);
        var ciphertextLength = m_record_iv_length + innerLength + m_macSize;
        var total = headerAllocation + ciphertextLength;
        if (headerAllocation != DirectRecordTarget.HeaderLength || m_encryptConnectionID is { Length: > 0 } || ciphertextLength > ushort.MaxValue)
        {
            return false;
        }

        var record = target.GetSpan(total);
        if (record.Length < total)
        {
            return false;
        }

        record = record[..total];
        record[0] = (byte)recordType;
        record[1] = (byte)recordVersion.MajorVersion;
        record[2] = (byte)recordVersion.MinorVersion;
        BinaryPrimitives.WriteUInt16BigEndian(record[3..], (ushort)ciphertextLength);
        var at = headerAllocation;
        if (m_record_iv_length != 0)
        {
            _nonce.AsSpan(_nonce.Length - m_record_iv_length).CopyTo(record[at..]);
            at += m_record_iv_length;
        }

        Span<byte> additionalData = stackalloc byte[13];
        if (m_isTlsV13)
        {
            additionalData = record[..DirectRecordTarget.HeaderLength];
        }
        else
        {
            BinaryPrimitives.WriteInt64BigEndian(additionalData, seqNo);
            additionalData[8] = (byte)recordType;
            additionalData[9] = (byte)recordVersion.MajorVersion;
            additionalData[10] = (byte)recordVersion.MinorVersion;
            BinaryPrimitives.WriteUInt16BigEndian(additionalData[11..], (ushort)innerLength);
        }

        var body = record.Slice(at, innerLength);
        var tag = record.Slice(at + innerLength, m_macSize);
        if (m_encryptUseInnerPlaintext)
        {
            // RFC 8446 §5.2: TLSInnerPlaintext is the content then its real type: sealed from where the content lies
            // when the cipher takes it in two pieces, else put together and sealed in place.
            if (!_sealer.TrySealWithType(_nonce, additionalData, plaintext, (byte)ContentType.application_data, body, tag))
            {
                plaintext.CopyTo(body);
                body[^1] = (byte)ContentType.application_data;
                _sealer.Seal(_nonce, additionalData, body, body, tag);
            }
        }
        else
        {
            _sealer.Seal(_nonce, additionalData, plaintext, body, tag);
        }

        target.Advance(total);
        return true;
    }
}
