using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc7748;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Platform;

/// <summary>The X25519 group (RFC 8446 §4.2.7, RFC 7748) with the arithmetic done by OpenSSL.</summary>
internal sealed class PlatformX25519Domain(BcTlsCrypto crypto) : TlsECDomain
{
    public TlsAgreement CreateECDH() => new PlatformX25519(crypto);
}

/// <summary>
/// One X25519 key exchange, as BouncyCastle's <see cref="BcX25519"/> does it (the same 32 bytes drawn from the crypto's
/// <see cref="Org.BouncyCastle.Security.SecureRandom"/>, the same alerts), with the two scalar multiplications done by
/// <see cref="OpenSslX25519"/>.
/// </summary>
internal sealed class PlatformX25519(BcTlsCrypto crypto) : TlsAgreement
{
    private readonly byte[] _peerPublicKey = new byte[OpenSslX25519.KeySize];
    private OpenSslX25519.EvpKey? _privateKey;

    public byte[] GenerateEphemeral()
    {
        // RFC 7748 §5: 32 random bytes, clamped (BouncyCastle clamps here, OpenSSL again on use).
        var privateKey = new byte[OpenSslX25519.KeySize];
        try
        {
            X25519.GeneratePrivateKey(crypto.SecureRandom, privateKey);
            _privateKey?.Dispose();
            _privateKey = OpenSslX25519.ImportPrivateKey(privateKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(privateKey);
        }

        var publicKey = new byte[OpenSslX25519.KeySize];
        OpenSslX25519.GetPublicKey(_privateKey, publicKey);
        return publicKey;
    }

    public void ReceivePeerValue(byte[] peerValue)
    {
        // RFC 8446 §4.2.8.2: an X25519 key_exchange is exactly 32 bytes.
        if (peerValue is not { Length: OpenSslX25519.KeySize })
        {
            throw new TlsFatalAlert(AlertDescription.illegal_parameter, "X25519 key share is not 32 bytes");
        }

        peerValue.CopyTo(_peerPublicKey, 0);
    }

    public TlsSecret CalculateSecret()
    {
        if (_privateKey is null)
        {
            throw new TlsFatalAlert(AlertDescription.internal_error, "X25519 secret asked for before our key share was made");
        }

        var shared = new byte[OpenSslX25519.KeySize];
        try
        {
            // RFC 8446 §7.4.2 / RFC 7748 §6.1: an all-zero shared secret (a low-order peer point) aborts the handshake.
            if (!OpenSslX25519.TryAgree(_privateKey, _peerPublicKey, shared))
            {
                throw new InvalidKeyShareAlert("the X25519 key share is a low-order point (all-zero shared secret)");
            }

            return crypto.CreateSecret(shared);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
            CryptographicOperations.ZeroMemory(_peerPublicKey);
            _privateKey.Dispose();
            _privateKey = null;
        }
    }
}

/// <summary>
/// RFC 8446 §7.4.2 / RFC 7748 §6.1: the peer's key share gives an all-zero secret. Sent as handshake_failure, as
/// BouncyCastle does, but typed so that the failure is put down to the peer and not to our policy.
/// </summary>
internal sealed class InvalidKeyShareAlert(string message) : TlsFatalAlert(Org.BouncyCastle.Tls.AlertDescription.handshake_failure, message);
