using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Apps.Tls.Platform;

/// <summary>
/// ECDHE over P-256 or P-384 (RFC 8446 §4.2.8.2, §7.4.2) with the scalar multiplications done by OpenSSL
/// (<see cref="OpenSslCurve"/>). Peer points are decoded and validated by BouncyCastle exactly as
/// <see cref="BcTlsECDomain"/> does (on the curve, not the point at infinity; both curves have cofactor 1), so the
/// alerts are BouncyCastle's; OpenSSL checks the point again before it multiplies.
/// </summary>
internal sealed class PlatformEcdhDomain(BcTlsCrypto crypto, TlsECConfig config, OpenSslCurve curve) : BcTlsECDomain(crypto, config)
{
    public OpenSslCurve Curve => curve;

    public ECDomainParameters Parameters => m_domainParameters;

    /// <summary>The crypto whose SecureRandom (Fortuna in production) supplies every private scalar.</summary>
    public BcTlsCrypto Crypto => m_crypto;

    public override TlsAgreement CreateECDH() => new PlatformEcdh(this);

    /// <summary>OpenSSL's curve for a named group, or null when the platform cannot do it.</summary>
    public static OpenSslCurve? CurveFor(int namedGroup) => namedGroup switch
    {
        NamedGroup.secp256r1 => OpenSslCurve.P256,
        NamedGroup.secp384r1 => OpenSslCurve.P384,
        _ => null,
    };
}

/// <summary>One ECDHE exchange on a NIST curve: private scalar from the crypto's SecureRandom, arithmetic by OpenSSL.</summary>
internal sealed class PlatformEcdh(PlatformEcdhDomain domain) : TlsAgreement
{
    private readonly byte[] _privateKey = new byte[domain.Curve.Size];
    private byte[]? _peerPoint;

    public byte[] GenerateEphemeral()
    {
        NewPrivateScalar(domain, _privateKey);
        // RFC 8446 §4.2.8.2: UncompressedPointRepresentation, 0x04 || X || Y, each coordinate field-size bytes.
        var encoded = new byte[domain.Curve.PointSize];
        domain.Curve.MultiplyGenerator(_privateKey, encoded);
        return encoded;
    }

    public void ReceivePeerValue(byte[] peerValue)
    {
        // BouncyCastle's decoding: illegal_parameter for a malformed encoding, a point off the curve or at infinity.
        _peerPoint = domain.DecodePublicKey(peerValue).Q.GetEncoded(false);
    }

    public TlsSecret CalculateSecret()
    {
        if (_peerPoint is null)
        {
            throw new TlsFatalAlert(AlertDescription.internal_error, "ECDH secret asked for before the peer's key share");
        }

        var shared = new byte[domain.Curve.Size];
        try
        {
            // RFC 8446 §7.4.2: the shared secret is the x-coordinate, field-size bytes, big-endian.
            if (!domain.Curve.TryAgree(_privateKey, _peerPoint, shared))
            {
                throw new TlsFatalAlert(AlertDescription.illegal_parameter, "the peer's ECDH key share gives no shared secret");
            }

            return domain.Crypto.CreateSecret(shared);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
            CryptographicOperations.ZeroMemory(_privateKey);
        }
    }

    /// <summary>A uniform scalar in [1, n-1] by rejection sampling (FIPS 186-5 A.2.2) from the crypto's SecureRandom.</summary>
    internal static void NewPrivateScalar(PlatformEcdhDomain domain, byte[] d)
    {
        var n = domain.Parameters.N;
        while (true)
        {
            domain.Crypto.SecureRandom.NextBytes(d);
            var candidate = new BcBigInteger(1, d);
            if (candidate.SignValue > 0 && candidate.CompareTo(n) < 0)
            {
                return;
            }
        }
    }
}
