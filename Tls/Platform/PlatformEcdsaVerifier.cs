using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.IO;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using Org.BouncyCastle.Utilities;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Apps.Tls.Platform;

/// <summary>
/// A peer certificate whose TLS 1.3 ECDSA verifier (CertificateVerify, RFC 8446 §4.4.3) on P-256 or P-384 does its
/// u1·G + u2·Q with OpenSSL (<see cref="PlatformEcdsaVerifier"/>). Everything else, including the checks BouncyCastle
/// makes before it builds a verifier (key usage, scheme), is BouncyCastle's.
/// </summary>
internal sealed class PlatformTlsCertificate(BcTlsCrypto crypto, byte[] encoding) : BcTlsCertificate(crypto, encoding)
{
    public override Tls13Verifier CreateVerifier(int signatureScheme)
    {
        var verifier = base.CreateVerifier(signatureScheme);
        if (!SignatureScheme.IsECDsa(signatureScheme) || signatureScheme == SignatureScheme.sm2sig_sm3)
        {
            return verifier;
        }

        var key = GetPubKeyEC();
        if (PlatformEcdsaVerifier.CurveFor(key.Parameters) is not { } curve)
        {
            return verifier;
        }

        var signer = new DsaDigestSigner(new PlatformEcdsaVerifier(curve),
            m_crypto.CreateDigest(SignatureScheme.GetCryptoHashAlgorithm(signatureScheme)));
        signer.Init(false, key);
        return new SignerVerifier(signer);
    }

    /// <summary>The signed content is written to <see cref="Stream"/>, then the signature checked.</summary>
    private sealed class SignerVerifier(ISigner signer) : Tls13Verifier
    {
        public Stream Stream { get; } = new SignerSink(signer);

        public bool VerifySignature(byte[] signature) => signer.VerifySignature(signature);
    }
}

/// <summary>
/// BouncyCastle's ECDSA verification (FIPS 186-5 §6.4.2: range checks, e, w = s⁻¹, u1, u2, compare x mod n with r) with
/// the sum of two multiples computed by OpenSSL. Only verification: it is never initialised for signing.
/// </summary>
internal sealed class PlatformEcdsaVerifier(OpenSslCurve curve) : ECDsaSigner
{
    private static readonly Lazy<X9ECParameters> P256 = new(() => NistNamedCurves.GetByName("P-256"));
    private static readonly Lazy<X9ECParameters> P384 = new(() => NistNamedCurves.GetByName("P-384"));

    /// <summary>OpenSSL's curve for these domain parameters, or null (another curve, or no libcrypto).</summary>
    public static OpenSslCurve? CurveFor(ECDomainParameters parameters) =>
        Same(parameters, P256.Value) ? OpenSslCurve.P256 : Same(parameters, P384.Value) ? OpenSslCurve.P384 : null;

    public override void Init(bool forSigning, ICipherParameters parameters)
    {
        if (forSigning)
        {
            throw new InvalidOperationException("this ECDSA only verifies");
        }

        base.Init(forSigning, parameters);
    }

    public override bool VerifySignature(byte[] message, BcBigInteger r, BcBigInteger s)
    {
        var publicKey = (ECPublicKeyParameters)key;
        var n = publicKey.Parameters.N;
        if (r.SignValue < 1 || s.SignValue < 1 || r.CompareTo(n) >= 0 || s.CompareTo(n) >= 0)
        {
            return false;
        }

        var e = CalculateE(n, message);
        var w = BigIntegers.ModOddInverseVar(n, s);
        var u1 = BigIntegers.AsUnsignedByteArray(curve.Size, e.Multiply(w).Mod(n));
        var u2 = BigIntegers.AsUnsignedByteArray(curve.Size, r.Multiply(w).Mod(n));
        Span<byte> x = stackalloc byte[curve.Size];
        return curve.TryLinearCombination(u1, u2, publicKey.Q.GetEncoded(false), x)
            && new BcBigInteger(1, x).Mod(n).Equals(r);
    }

    private static bool Same(ECDomainParameters parameters, X9ECParameters domain) =>
        parameters.Curve.Equals(domain.Curve) && parameters.N.Equals(domain.N) && parameters.G.Equals(domain.G);
}
