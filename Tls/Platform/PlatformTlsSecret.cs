using System.Security.Cryptography;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Platform;

/// <summary>
/// A TLS secret whose HKDF (RFC 5869; the TLS 1.3 key schedule, RFC 8446 §7.1) runs on .NET's <see cref="HKDF"/>
/// (OpenSSL) for SHA-256 and SHA-384. BouncyCastle's own HKDF builds three digest objects per HMAC: about 1.7 KB
/// per derivation and some 37 KB per TLS 1.3 handshake; this allocates only the derived secret. Everything else
/// (TLS 1.2's PRF, other hashes, marking a secret used) is BouncyCastle's. Secrets derived from one stay platform
/// secrets, so the whole 1.3 schedule stays here once the first secret is one.
/// </summary>
internal sealed class PlatformTlsSecret(BcTlsCrypto crypto, byte[] data) : BcTlsSecret(crypto, data)
{
    public override TlsSecret HkdfExpand(int cryptoHashAlgorithm, ReadOnlySpan<byte> info, int length)
    {
        if (HashFor(cryptoHashAlgorithm) is not { } hash)
        {
            return base.HkdfExpand(cryptoHashAlgorithm, info, length);
        }

        // The same limits as BouncyCastle's (RFC 5869 §2.3: L <= 255 * HashLen).
        if (length < 1)
        {
            return new PlatformTlsSecret(m_crypto, []);
        }

        if (length > 255 * TlsCryptoUtilities.GetHashOutputSize(cryptoHashAlgorithm))
        {
            throw new ArgumentException("must be <= 255 * (output size of 'hashAlgorithm')", nameof(length));
        }

        var okm = new byte[length];
        lock (this)
        {
            CheckAlive();
            HKDF.Expand(hash, m_data, okm, info);
        }

        return new PlatformTlsSecret(m_crypto, okm);
    }

    public override TlsSecret HkdfExtract(int cryptoHashAlgorithm, TlsSecret ikm)
    {
        if (HashFor(cryptoHashAlgorithm) is not { } hash || ikm is not PlatformTlsSecret keyMaterial)
        {
            return base.HkdfExtract(cryptoHashAlgorithm, ikm);
        }

        // As BouncyCastle does: this secret is the salt and is used up; the input keying material is only read.
        var salt = Extract();
        var prk = new byte[TlsCryptoUtilities.GetHashOutputSize(cryptoHashAlgorithm)];
        try
        {
            lock (keyMaterial)
            {
                keyMaterial.CheckAlive();
                HKDF.Extract(hash, keyMaterial.m_data, salt, prk);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(salt);
        }

        return new PlatformTlsSecret(m_crypto, prk);
    }

    private static HashAlgorithmName? HashFor(int cryptoHashAlgorithm) => cryptoHashAlgorithm switch
    {
        CryptoHashAlgorithm.sha256 => HashAlgorithmName.SHA256,
        CryptoHashAlgorithm.sha384 => HashAlgorithmName.SHA384,
        _ => null,
    };
}
