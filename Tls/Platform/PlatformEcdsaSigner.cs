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
using Org.BouncyCastle.Utilities;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcECPoint = Org.BouncyCastle.Math.EC.ECPoint;

namespace Apps.Tls.Platform;

/// <summary>
/// ECDSA signatures for CertificateVerify (RFC 8446 §4.4.3) and ServerKeyExchange (RFC 8422 §5.4), made as
/// BouncyCastle's <see cref="BcTlsECDsa13Signer"/> makes them: BouncyCastle's ECDSA with the deterministic nonce of
/// RFC 6979 (so no randomness is drawn, and the bytes are the same), except that the base point multiplication k·G is
/// done by OpenSSL through <see cref="PlatformBasePointMultiplier"/>, and, given the key in OpenSSL
/// (<see cref="OpenSslEcdsaKey"/>), so is s = k⁻¹·(e + r·d) mod n, in constant time where BouncyCastle's BigInteger
/// takes variable time (41 to 31 µs a P-256 signature in EcdsaSignBench). The nonce stays BouncyCastle's RFC 6979 one.
/// </summary>
internal sealed class PlatformEcdsaSigner : TlsSigner
{
    private readonly BcTlsCrypto _crypto;
    private readonly ECPrivateKeyParameters _privateKey;
    private readonly int _signatureScheme;
    private readonly PlatformBasePointMultiplier _multiplier;
    private readonly OpenSslEcdsaKey? _key;

    /// <param name="crypto">Supplies the RFC 6979 digest (and the SecureRandom BouncyCastle's API asks for, never drawn).</param>
    /// <param name="privateKey">The server's key, on P-256 or P-384.</param>
    /// <param name="signatureScheme">An ECDSA scheme matching the key's curve.</param>
    /// <param name="multiplier">The key's k·G multiplier (built once per key); made here when not given.</param>
    /// <param name="key">The same private key held by OpenSSL (<see cref="KeyFor"/>), for s; without it BouncyCastle computes s.</param>
    public PlatformEcdsaSigner(BcTlsCrypto crypto, ECPrivateKeyParameters privateKey, int signatureScheme, PlatformBasePointMultiplier? multiplier = null,
        OpenSslEcdsaKey? key = null)
    {
        if (!SignatureScheme.IsECDsa(signatureScheme))
        {
            throw new ArgumentException($"{SignatureScheme.GetText(signatureScheme)} is not ECDSA", nameof(signatureScheme));
        }

        _crypto = crypto;
        _privateKey = privateKey;
        _signatureScheme = signatureScheme;
        _multiplier = multiplier ?? PlatformBasePointMultiplier.For(privateKey.Parameters)
            ?? throw new ArgumentException("the platform multiplies only on P-256 and P-384", nameof(privateKey));
        _key = key;
    }

    /// <summary>
    /// OpenSSL's copy of <paramref name="privateKey"/> for <see cref="PlatformEcdsaSigner"/> (build it once per key), or
    /// null off P-256 and P-384 or without libcrypto.
    /// </summary>
    public static OpenSslEcdsaKey? KeyFor(ECPrivateKeyParameters privateKey)
    {
        if (PlatformBasePointMultiplier.CurveFor(privateKey.Parameters) is not { } curve)
        {
            return null;
        }

        var d = BigIntegers.AsUnsignedByteArray(curve.Size, privateKey.D);
        try
        {
            return OpenSslEcdsaKey.TryCreate(curve, d);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
        }
    }

    public byte[] GenerateRawSignature(SignatureAndHashAlgorithm algorithm, byte[] hash)
    {
        if (algorithm is null || SignatureScheme.From(algorithm) != _signatureScheme)
        {
            throw new InvalidOperationException($"Invalid algorithm: {algorithm}");
        }

        if (_key is not null && SignWithKey(hash) is { } signature)
        {
            return signature;
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

    /// <summary>
    /// BouncyCastle's <c>ECDsaSigner.GenerateSignature</c> step by step (RFC 6979 k, r = (k·G).x mod n, k⁻¹ by its
    /// constant-time inversion), with s from OpenSSL; DER-encoded as <see cref="StandardDsaEncoding"/> does. Null when
    /// OpenSSL fails, and BouncyCastle then signs alone.
    /// </summary>
    private byte[]? SignWithKey(byte[] hash)
    {
        var parameters = _privateKey.Parameters;
        var n = parameters.N;
        var nonces = new HMacDsaKCalculator(_crypto.CreateDigest(SignatureScheme.GetCryptoHashAlgorithm(_signatureScheme)));
        nonces.Init(n, _privateKey.D, hash);
        var s = new byte[_key!.Curve.Size];
        // s = 0 (and r = 0) happen with probability about 2^-256 each; a few more nonces settle it either way.
        for (var attempt = 0; attempt < 4; attempt++)
        {
            var k = nonces.NextK();
            var r = _multiplier.Multiply(parameters.G, k).Normalize().AffineXCoord.ToBigInteger().Mod(n);
            if (r.SignValue == 0)
            {
                continue;
            }

            var kInverse = BigIntegers.ModOddInverse(n, k).ToByteArrayUnsigned();
            try
            {
                if (_key.TrySign(hash, kInverse, r.ToByteArrayUnsigned(), s))
                {
                    return StandardDsaEncoding.Instance.Encode(n, r, new BcBigInteger(1, s));
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(kInverse);
            }
        }

        return null;
    }

    /// <summary>BouncyCastle's ECDSA (FIPS 186-5 §6.4.1) with the platform's base point multiplier.</summary>
    private sealed class Ecdsa(IDsaKCalculator kCalculator, PlatformBasePointMultiplier multiplier) : ECDsaSigner(kCalculator)
    {
        protected override ECMultiplier CreateBasePointMultiplier() => multiplier;
    }
}

/// <summary>
/// k·G on P-256 or P-384 by OpenSSL (<see cref="OpenSslCurve"/>). Any other point or an out-of-range scalar goes to
/// BouncyCastle's own multiplier. The scalar is wiped from our copies after use.
/// </summary>
internal sealed class PlatformBasePointMultiplier : ECMultiplier
{
    private static readonly Lazy<X9ECParameters> P256 = new(() => NistNamedCurves.GetByName("P-256"));
    private static readonly Lazy<X9ECParameters> P384 = new(() => NistNamedCurves.GetByName("P-384"));
    private readonly X9ECParameters _domain;
    private readonly OpenSslCurve _curve;
    private readonly BcECPoint _generator;
    private readonly FixedPointCombMultiplier _fallback = new();

    private PlatformBasePointMultiplier(X9ECParameters domain, OpenSslCurve curve, BcECPoint generator)
    {
        _domain = domain;
        _curve = curve;
        _generator = generator;
    }

    /// <summary>OpenSSL's curve for these domain parameters, or null (not P-256 or P-384, or no libcrypto).</summary>
    public static OpenSslCurve? CurveFor(ECDomainParameters parameters) => Match(parameters)?.Curve;

    private static (X9ECParameters Domain, OpenSslCurve Curve)? Match(ECDomainParameters parameters)
    {
        foreach (var (domain, curve) in new[] { (P256.Value, OpenSslCurve.P256), (P384.Value, OpenSslCurve.P384) })
        {
            if (curve is not null && Matches(domain, parameters.Curve, parameters.G))
            {
                return (domain, curve);
            }
        }

        return null;
    }

    /// <summary>
    /// A multiplier for these domain parameters (build it once per key: matching the curve is not free), or null when
    /// the platform has no matching curve. BouncyCastle's ECDSA passes the parameters' own G, recognised by reference.
    /// </summary>
    public static PlatformBasePointMultiplier? For(ECDomainParameters parameters) =>
        Match(parameters) is { } match ? new PlatformBasePointMultiplier(match.Domain, match.Curve, parameters.G) : null;

    public BcECPoint Multiply(BcECPoint p, BcBigInteger k)
    {
        if (!(ReferenceEquals(p, _generator) || Matches(_domain, p.Curve, p)) || k.SignValue <= 0 || k.CompareTo(_domain.N) >= 0)
        {
            return _fallback.Multiply(p, k);
        }

        var d = new byte[_curve.Size];
        var magnitude = k.ToByteArrayUnsigned();
        magnitude.CopyTo(d, _curve.Size - magnitude.Length);
        try
        {
            var point = new byte[_curve.PointSize];
            _curve.MultiplyGenerator(d, point);
            return p.Curve.DecodePoint(point);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(d);
            CryptographicOperations.ZeroMemory(magnitude);
        }
    }

    private static bool Matches(X9ECParameters domain, Org.BouncyCastle.Math.EC.ECCurve curve, BcECPoint point)
    {
        if (!curve.Equals(domain.Curve))
        {
            return false;
        }

        var normal = point.Normalize();
        return !normal.IsInfinity
            && normal.AffineXCoord.ToBigInteger().Equals(domain.G.AffineXCoord.ToBigInteger())
            && normal.AffineYCoord.ToBigInteger().Equals(domain.G.AffineYCoord.ToBigInteger());
    }
}
