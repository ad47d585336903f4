// Checks one certificate's signature with its issuer's key. ECDSA and RSA PKCS#1 v1.5 go through
// .NET's System.Security.Cryptography (OpenSSL on Linux), several times faster than BouncyCastle's
// managed code (ARCHITECTURE.md, "Hot paths"; tests/Bench CertificateVerificationBench); RSA-PSS,
// EdDSA and anything unusual fall back to BouncyCastle. The signed bytes are the TBSCertificate
// exactly as received: ParsedCertificate has already required canonical DER.
using System.Security.Cryptography;

namespace Apps.Tls.Verification;

internal static class SignatureCheck
{
    private const string EcPublicKey = "1.2.840.10045.2.1";
    private const string RsaEncryption = "1.2.840.113549.1.1.1";

    /// <summary>True when <paramref name="child"/>'s signature verifies with <paramref name="issuer"/>'s key.</summary>
    public static bool IsSignedBy(ParsedCertificate child, ParsedCertificate issuer)
    {
        var keyAlgorithm = issuer.Tbs.SubjectPublicKeyInfo.Algorithm.Algorithm.Id;
        var (family, hash) = child.Structure.SignatureAlgorithm.Algorithm.Id switch
        {
            "1.2.840.10045.4.3.2" => (EcPublicKey, HashAlgorithmName.SHA256),
            "1.2.840.10045.4.3.3" => (EcPublicKey, HashAlgorithmName.SHA384),
            "1.2.840.10045.4.3.4" => (EcPublicKey, HashAlgorithmName.SHA512),
            "1.2.840.113549.1.1.11" => (RsaEncryption, HashAlgorithmName.SHA256),
            "1.2.840.113549.1.1.12" => (RsaEncryption, HashAlgorithmName.SHA384),
            "1.2.840.113549.1.1.13" => (RsaEncryption, HashAlgorithmName.SHA512),
            _ => (null, default),
        };
        if (family is null)
            return issuer.PublicKey is { } key && child.IsSignedBy(key);
        if (family != keyAlgorithm)
            return false;
        var tbs = child.TbsBytes.Span;
        var signature = child.Structure.GetSignatureOctets();
        try
        {
            if (family == EcPublicKey)
            {
                using var ec = ECDsa.Create();
                ec.ImportSubjectPublicKeyInfo(issuer.SpkiDer, out _);
                return ec.VerifyData(tbs, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
            }
            using var rsa = RSA.Create();
            rsa.ImportSubjectPublicKeyInfo(issuer.SpkiDer, out _);
            return rsa.VerifyData(tbs, signature, hash, RSASignaturePadding.Pkcs1);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
