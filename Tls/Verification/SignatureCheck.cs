// Checks a signature made by an issuer's key over a certificate or CRL. ECDSA and RSA PKCS#1 v1.5
// go through .NET's System.Security.Cryptography (OpenSSL on Linux), which measured faster than
// BouncyCastle's managed code in tests/Bench CertificateVerificationBench (ARCHITECTURE.md, "Hot
// paths"); RSA-PSS, EdDSA and anything unusual go through BouncyCastle.
// The signed bytes are the TBS structure exactly as received: parsing has required canonical DER.
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Operators;

namespace Apps.Tls.Verification;

internal static class SignatureCheck
{
    private const string EcPublicKey = "1.2.840.10045.2.1";
    private const string RsaEncryption = "1.2.840.113549.1.1.1";

    /// <summary>True when <paramref name="child"/>'s signature verifies with <paramref name="issuer"/>'s key.</summary>
    public static bool IsSignedBy(ParsedCertificate child, ParsedCertificate issuer) =>
        Verify(child.Structure.SignatureAlgorithm, child.TbsBytes.Span, child.Structure.GetSignatureOctets(), issuer);

    /// <summary>True when <paramref name="signature"/> over <paramref name="signed"/> verifies with the issuer's key.</summary>
    public static bool Verify(AlgorithmIdentifier algorithm, ReadOnlySpan<byte> signed, byte[] signature, ParsedCertificate issuer)
    {
        var keyAlgorithm = issuer.Tbs.SubjectPublicKeyInfo.Algorithm.Algorithm.Id;
        var (family, hash) = algorithm.Algorithm.Id switch
        {
            "1.2.840.10045.4.3.2" => (EcPublicKey, HashAlgorithmName.SHA256),
            "1.2.840.10045.4.3.3" => (EcPublicKey, HashAlgorithmName.SHA384),
            "1.2.840.10045.4.3.4" => (EcPublicKey, HashAlgorithmName.SHA512),
            "1.2.840.113549.1.1.11" => (RsaEncryption, HashAlgorithmName.SHA256),
            "1.2.840.113549.1.1.12" => (RsaEncryption, HashAlgorithmName.SHA384),
            "1.2.840.113549.1.1.13" => (RsaEncryption, HashAlgorithmName.SHA512),
            _ => (null, default),
        };
        try
        {
            if (family is null)
                return VerifyWithBouncyCastle(algorithm, signed, signature, issuer);
            if (family != keyAlgorithm)
                return false;
            lock (issuer.PlatformKeyLock)
            {
                return issuer.PlatformKey switch
                {
                    ECDsa ec => ec.VerifyData(signed, signature, hash, DSASignatureFormat.Rfc3279DerSequence),
                    RSA rsa => rsa.VerifyData(signed, signature, hash, RSASignaturePadding.Pkcs1),
                    _ => false,
                };
            }
        }
        // Either library may throw on a hostile key or signature; that is a signature that does not verify.
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
    }

    /// <summary>Imports an ECDSA or RSA subject key into .NET; null for other types or a key OpenSSL refuses.</summary>
    public static AsymmetricAlgorithm? ImportPlatformKey(ParsedCertificate cert)
    {
        AsymmetricAlgorithm? key = cert.Tbs.SubjectPublicKeyInfo.Algorithm.Algorithm.Id switch
        {
            EcPublicKey => ECDsa.Create(),
            RsaEncryption => RSA.Create(),
            _ => null,
        };
        if (key is null)
            return null;
        try
        {
            key.ImportSubjectPublicKeyInfo(cert.SpkiDer, out _);
            return key;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            key.Dispose();
            return null;
        }
    }

    private static bool VerifyWithBouncyCastle(AlgorithmIdentifier algorithm, ReadOnlySpan<byte> signed, byte[] signature, ParsedCertificate issuer)
    {
        if (issuer.PublicKey is not { } key)
            return false;
        var calculator = new Asn1VerifierFactory(algorithm, key).CreateCalculator();
        using (var stream = calculator.Stream)
            stream.Write(signed);
        return calculator.GetResult().IsVerified(signature);
    }
}
