// Which keys and signature algorithms the verifier accepts. The rule is the CA/Browser Forum
// Baseline Requirements §6.1.5/§7.1.3 set: RSA of at least 2048 bits (a multiple of 8), ECDSA on
// P-256/P-384/P-521 as a named curve (RFC 5480 §2.1.1), Ed25519/Ed448 (RFC 8410); signatures
// with SHA-256 or stronger. MD5 and SHA-1 are broken for signatures (RFC 6151, SHAttered).
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;

namespace Apps.Tls.Verification;

internal static class AlgorithmPolicy
{
    public const int MinimumRsaBits = 2048;
    /// <summary>Beyond this, RSA verification becomes a CPU-exhaustion vector.</summary>
    public const int MaximumRsaBits = 8192;

    private const string RsaEncryption = "1.2.840.113549.1.1.1";
    private const string RsaPss = "1.2.840.113549.1.1.10";
    private const string EcPublicKey = "1.2.840.10045.2.1";
    private const string Ed25519 = "1.3.101.112";
    private const string Ed448 = "1.3.101.113";
    private const string Dsa = "1.2.840.10040.4.1";

    private static readonly HashSet<string> AcceptedCurves =
    [
        "1.2.840.10045.3.1.7", // P-256
        "1.3.132.0.34",        // P-384
        "1.3.132.0.35",        // P-521
    ];

    private static readonly Dictionary<string, string> WeakSignatures = new()
    {
        ["1.2.840.113549.1.1.2"] = "MD2 with RSA",
        ["1.2.840.113549.1.1.4"] = "MD5 with RSA",
        ["1.2.840.113549.1.1.5"] = "SHA-1 with RSA",
        ["1.3.14.3.2.29"] = "SHA-1 with RSA",
        ["1.2.840.10045.4.1"] = "ECDSA with SHA-1",
        ["1.2.840.10040.4.3"] = "DSA with SHA-1",
    };

    private static readonly HashSet<string> StrongSignatures =
    [
        "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13", // RSA PKCS#1 v1.5 SHA-2
        "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4",       // ECDSA SHA-2
        Ed25519, Ed448,
    ];

    private static readonly HashSet<string> StrongPssHashes =
    [
        "2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.2", "2.16.840.1.101.3.4.2.3", // SHA-256/384/512
    ];

    /// <summary>Checks a subject public key's type and size; returns why it is refused, or null.</summary>
    /// <remarks>
    /// Reads the size from the encoding instead of building the key: BouncyCastle's RSA key
    /// validation runs a primality test, which costs milliseconds per key and would make loading
    /// the system roots slow. Keys are built only when a signature is checked with them.
    /// </remarks>
    public static Rejection? CheckSubjectPublicKey(SubjectPublicKeyInfo spki)
    {
        var algorithm = spki.Algorithm.Algorithm.Id;
        switch (algorithm)
        {
            case RsaEncryption or RsaPss:
                var bits = RsaPublicKeyStructure.GetInstance(spki.ParsePublicKey()).Modulus.BitLength;
                if (bits < MinimumRsaBits)
                    return new Rejection(VerificationFailure.WeakKey, $"has a {bits}-bit RSA key; at least {MinimumRsaBits} bits are required");
                if (bits % 8 != 0 || bits > MaximumRsaBits)
                    return new Rejection(VerificationFailure.WeakKey, $"has a {bits}-bit RSA key; the size must be a multiple of 8 up to {MaximumRsaBits}");
                return null;
            case EcPublicKey:
                // RFC 5480 §2.1.1: namedCurve only; explicit parameters are refused (CABF §7.1.3.1.2).
                if (spki.Algorithm.Parameters is not DerObjectIdentifier curve)
                    return new Rejection(VerificationFailure.WeakKey, "has an EC key with explicit curve parameters; only named curves are accepted");
                if (!AcceptedCurves.Contains(curve.Id))
                    return new Rejection(VerificationFailure.WeakKey, $"has an EC key on curve {curve.Id}; only P-256, P-384 and P-521 are accepted");
                return null;
            case Ed25519 or Ed448:
                return null;
            case Dsa:
                return new Rejection(VerificationFailure.WeakKey, "has a DSA key; DSA is not accepted");
            default:
                return new Rejection(VerificationFailure.WeakKey, $"has a public key of unsupported type {algorithm}");
        }
    }

    /// <summary>Builds the key for signature checks; null when BouncyCastle finds it invalid.</summary>
    public static AsymmetricKeyParameter? CreateKey(SubjectPublicKeyInfo spki)
    {
        try
        {
            return PublicKeyFactory.CreateKey(spki);
        }
        // BouncyCastle throws many exception types on hostile keys (even NullReferenceException).
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>Checks the algorithm a certificate was signed with; returns why it is refused, or null.</summary>
    public static Rejection? CheckSignatureAlgorithm(AlgorithmIdentifier signature)
    {
        var oid = signature.Algorithm.Id;
        if (WeakSignatures.TryGetValue(oid, out var name))
            return new Rejection(VerificationFailure.WeakSignatureAlgorithm, $"is signed with {name}, which is broken");
        if (StrongSignatures.Contains(oid))
            return null;
        if (oid == RsaPss)
        {
            var parameters = RsassaPssParameters.GetInstance(signature.Parameters);
            if (StrongPssHashes.Contains(parameters.HashAlgorithm.Algorithm.Id))
                return null;
            return new Rejection(VerificationFailure.WeakSignatureAlgorithm, "is signed with RSA-PSS over a weak hash");
        }
        return new Rejection(VerificationFailure.WeakSignatureAlgorithm, $"is signed with unsupported algorithm {oid}");
    }
}
