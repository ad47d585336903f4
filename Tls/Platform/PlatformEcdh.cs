using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Apps.Tls.Platform;

/// <summary>
/// ECDHE over P-256 or P-384 (RFC 8446 §4.2.8.2, §7.4.2) with the scalar multiplications done by .NET's
/// <see cref="ECDiffieHellman"/> (OpenSSL). Peer points are decoded and validated by BouncyCastle exactly as
/// <see cref="BcTlsECDomain"/> does (on the curve, not the point at infinity; both curves have cofactor 1).
/// </summary>
internal sealed class PlatformEcdhDomain(BcTlsCrypto crypto, TlsECConfig config) : BcTlsECDomain(crypto, config)
{
    public ECCurve Curve { get; } = config.NamedGroup switch
    {
        NamedGroup.secp256r1 => ECCurve.NamedCurves.nistP256,
        NamedGroup.secp384r1 => ECCurve.NamedCurves.nistP384,
        _ => throw new ArgumentException($"no platform curve for named group {config.NamedGroup}"),
    };

    /// <summary>Bytes in a field element (and in a scalar: both curves have an order as long as their prime).</summary>
    public int FieldSize => (m_domainParameters.Curve.FieldSize + 7) / 8;

    public ECDomainParameters Parameters => m_domainParameters;

    /// <summary>The crypto whose SecureRandom (Fortuna in production) supplies every private scalar.</summary>
    public BcTlsCrypto Crypto => m_crypto;

    public override TlsAgreement CreateECDH() => new PlatformEcdh(this);

    /// <summary>Whether the platform can do this group; only P-256 and P-384 are mapped.</summary>
    public static bool Supports(int namedGroup) => namedGroup is NamedGroup.secp256r1 or NamedGroup.secp384r1;
}

/// <summary>One ECDHE exchange on a NIST curve: private scalar from the crypto's SecureRandom, arithmetic by OpenSSL.</summary>
internal sealed class PlatformEcdh(PlatformEcdhDomain domain) : TlsAgreement
{
    private ECDiffieHellman? _local;
    private ECParameters _peer;

    public byte[] GenerateEphemeral()
    {
        var d = NewPrivateScalar(domain);
        try
        {
            _local = ECDiffieHellman.Create(new ECParameters { Curve = domain.Curve, D = d });
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
        }

        // RFC 8446 §4.2.8.2: UncompressedPointRepresentation, 0x04 || X || Y, each coordinate field-size bytes.
        var q = _local.ExportParameters(false).Q;
        var encoded = new byte[1 + 2 * domain.FieldSize];
        encoded[0] = 0x04;
        q.X!.CopyTo(encoded, 1);
        q.Y!.CopyTo(encoded, 1 + domain.FieldSize);
        return encoded;
    }

    public void ReceivePeerValue(byte[] peerValue)
    {
        // BouncyCastle's decoding: illegal_parameter for a malformed encoding or a point off the curve.
        var point = domain.DecodePublicKey(peerValue).Q.Normalize();
        _peer = new ECParameters
        {
            Curve = domain.Curve,
            Q = new ECPoint
            {
                X = point.AffineXCoord.GetEncoded(),
                Y = point.AffineYCoord.GetEncoded(),
            },
        };
    }

    public TlsSecret CalculateSecret()
    {
        if (_local is null || _peer.Q.X is null)
        {
            throw new TlsFatalAlert(AlertDescription.internal_error, "ECDH secret asked for before both key shares are known");
        }

        byte[]? shared = null;
        try
        {
            using var peer = ECDiffieHellman.Create(_peer);
            // RFC 8446 §7.4.2: the shared secret is the x-coordinate, field-size bytes, big-endian.
            shared = _local.DeriveRawSecretAgreement(peer.PublicKey);
            return domain.Crypto.CreateSecret(shared);
        }
        catch (CryptographicException e)
        {
            throw new TlsFatalAlert(AlertDescription.illegal_parameter, "the peer's ECDH key share was refused", e);
        }
        finally
        {
            if (shared is not null)
            {
                CryptographicOperations.ZeroMemory(shared);
            }

            _local.Dispose();
            _local = null;
        }
    }

    /// <summary>A uniform scalar in [1, n-1] by rejection sampling (FIPS 186-5 A.2.2) from the crypto's SecureRandom.</summary>
    internal static byte[] NewPrivateScalar(PlatformEcdhDomain domain)
    {
        var n = domain.Parameters.N;
        var d = new byte[domain.FieldSize];
        while (true)
        {
            domain.Crypto.SecureRandom.NextBytes(d);
            var candidate = new BcBigInteger(1, d);
            if (candidate.SignValue > 0 && candidate.CompareTo(n) < 0)
            {
                return d;
            }
        }
    }
}
