using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Math.EC.Multiplier;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Apps.Tls.Platform;

/// <summary>
/// ECDSA signatures for CertificateVerify (RFC 8446 §4.4.3) and ServerKeyExchange (RFC 8422 §5.4), made as
/// BouncyCastle's <see cref="BcTlsECDsa13Signer"/> makes them: BouncyCastle's ECDSA with the deterministic nonce of
/// RFC 6979 (so no randomness is drawn, and the bytes are the same), except that the one expensive step, the base
/// point multiplication k·G, is done by OpenSSL through <see cref="PlatformBasePointMultiplier"/>.
/// </summary>
internal sealed class PlatformEcdsaSigner : TlsSigner
{
    private readonly BcTlsCrypto _crypto;
    private readonly ECPrivateKeyParameters _privateKey;
    private readonly int _signatureScheme;
    private readonly PlatformBasePointMultiplier _multiplier;

    public PlatformEcdsaSigner(BcTlsCrypto crypto, ECPrivateKeyParameters privateKey, int signatureScheme)
    {
        if (!SignatureScheme.IsECDsa(signatureScheme))
        {
            throw new ArgumentException($"{SignatureScheme.GetText(signatureScheme)} is not ECDSA", nameof(signatureScheme));
        }

        _crypto = crypto;
        _privateKey = privateKey;
        _signatureScheme = signatureScheme;
        _multiplier = PlatformBasePointMultiplier.For(privateKey.Parameters)
            ?? throw new ArgumentException("the platform multiplies only on P-256 and P-384", nameof(privateKey));
    }

    public byte[] GenerateRawSignature(SignatureAndHashAlgorithm algorithm, byte[] hash)
    {
        if (algorithm is null || SignatureScheme.From(algorithm) != _signatureScheme)
        {
            throw new InvalidOperationException($"Invalid algorithm: {algorithm}");
        }

        var digest = _crypto.CreateDigest(SignatureScheme.GetCryptoHashAlgorithm(_signatureScheme));
        ISigner signer = new DsaDigestSigner(new Ecdsa(new HMacDsaKCalculator(digest), _multiplier), new NullDigest());
        signer.Init(true, new ParametersWithRandom(_privateKey, _crypto.SecureRandom));
        signer.BlockUpdate(hash, 0, hash.Length);
        try
        {
            return signer.GenerateSignature();
        }
        catch (CryptoException e)
        {
            throw new TlsFatalAlert(AlertDescription.internal_error, e);
        }
    }

    public TlsStreamSigner? GetStreamSigner(SignatureAndHashAlgorithm algorithm) => null;

    /// <summary>BouncyCastle's ECDSA (FIPS 186-5 §6.4.1) with the platform's base point multiplier.</summary>
    private sealed class Ecdsa(IDsaKCalculator kCalculator, PlatformBasePointMultiplier multiplier) : ECDsaSigner(kCalculator)
    {
        protected override ECMultiplier CreateBasePointMultiplier() => multiplier;
    }
}

/// <summary>
/// k·G on P-256 or P-384 by OpenSSL: the scalar is imported as an <see cref="ECDiffieHellman"/> private key, whose
/// public key is k·G. Any other point or an out-of-range scalar goes to BouncyCastle's own multiplier. The scalar is
/// wiped from our copy after use.
/// </summary>
internal sealed class PlatformBasePointMultiplier : ECMultiplier
{
    private static readonly PlatformBasePointMultiplier P256 = new("P-256", ECCurve.NamedCurves.nistP256);
    private static readonly PlatformBasePointMultiplier P384 = new("P-384", ECCurve.NamedCurves.nistP384);
    private readonly X9ECParameters _domain;
    private readonly ECCurve _curve;
    private readonly int _size;
    private readonly FixedPointCombMultiplier _fallback = new();

    private PlatformBasePointMultiplier(string name, ECCurve curve)
    {
        _domain = NistNamedCurves.GetByName(name);
        _curve = curve;
        _size = (_domain.Curve.FieldSize + 7) / 8;
    }

    /// <summary>The multiplier for these domain parameters, or null when the platform has no matching curve.</summary>
    public static PlatformBasePointMultiplier? For(ECDomainParameters parameters) =>
        P256.Matches(parameters.Curve, parameters.G) ? P256 : P384.Matches(parameters.Curve, parameters.G) ? P384 : null;

    public BcECPoint Multiply(BcECPoint p, BcBigInteger k)
    {
        if (!Matches(p.Curve, p) || k.SignValue <= 0 || k.CompareTo(_domain.N) >= 0)
        {
            return _fallback.Multiply(p, k);
        }

        var d = new byte[_size];
        var magnitude = k.ToByteArrayUnsigned();
        magnitude.CopyTo(d, _size - magnitude.Length);
        try
        {
            using var key = ECDiffieHellman.Create(new ECParameters { Curve = _curve, D = d });
            var q = key.ExportParameters(false).Q;
            return p.Curve.CreatePoint(new BcBigInteger(1, q.X), new BcBigInteger(1, q.Y));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
            CryptographicOperations.ZeroMemory(magnitude);
        }
    }

    private bool Matches(Org.BouncyCastle.Math.EC.ECCurve curve, BcECPoint point)
    {
        if (!curve.Equals(_domain.Curve))
        {
            return false;
        }

        var normal = point.Normalize();
        return !normal.IsInfinity
            && normal.AffineXCoord.ToBigInteger().Equals(_domain.G.AffineXCoord.ToBigInteger())
            && normal.AffineYCoord.ToBigInteger().Equals(_domain.G.AffineYCoord.ToBigInteger());
    }
}
