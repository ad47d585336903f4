using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.OpenSsl;
using X509Certificate = Org.BouncyCastle.X509.X509Certificate;

namespace Apps.Tls.Credentials;

/// <summary>
/// Reads a server credential from PEM (RFC 7468): CERTIFICATE blocks (leaf first), and one private key as
/// PKCS#8 "PRIVATE KEY" or the traditional "RSA PRIVATE KEY" (PKCS#1) / "EC PRIVATE KEY" (RFC 5915) forms.
/// RSA, ECDSA P-256/P-384 and Ed25519 keys are accepted; encrypted keys ("ENCRYPTED PRIVATE KEY", or the
/// traditional Proc-Type: 4,ENCRYPTED form) when a password is given.
/// </summary>
public static class PemCredentialReader
{
    /// <summary>Parses certificate and key PEM text (they may also be one text holding both).</summary>
    public static ServerCredential Read(string certificatePem, string? privateKeyPem = null, string? password = null)
    {
        var (chain, key) = ReadParts(certificatePem, privateKeyPem, password);
        return new ServerCredential(chain, key);
    }

    /// <summary>The certificates and the key as BouncyCastle objects, not yet checked to belong together.</summary>
    internal static (List<X509Certificate> Chain, AsymmetricKeyParameter Key) ReadParts(string certificatePem, string? privateKeyPem = null,
        string? password = null)
    {
        var chain = new List<X509Certificate>();
        AsymmetricKeyParameter? key = null;
        Collect(certificatePem, chain, ref key, "certificate", password);
        if (privateKeyPem is not null)
        {
            Collect(privateKeyPem, chain, ref key, "key", password);
        }

        if (key is null)
        {
            throw new TlsCredentialException("no private key found; give a PEM file with a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block");
        }

        return (chain, key);
    }

    /// <summary>Reads the certificate file and the key file.</summary>
    public static ServerCredential ReadFiles(string certificatePath, string privateKeyPath, string? password = null) =>
        Read(File.ReadAllText(certificatePath), File.ReadAllText(privateKeyPath), password);

    private static void Collect(string pem, List<X509Certificate> chain, ref AsymmetricKeyParameter? key, string what, string? password)
    {
        object? item;
        using var reader = password is null
            ? new PemReader(new StringReader(pem))
            : new PemReader(new StringReader(pem), new Password(password));
        do
        {
            try
            {
                item = reader.ReadObject();
            }
            catch (Exception e) when (e is IOException or PemException or ArgumentException or InvalidCastException
                or Org.BouncyCastle.OpenSsl.PasswordException or Org.BouncyCastle.Crypto.InvalidCipherTextException
                or Org.BouncyCastle.Security.InvalidKeyException)
            {
                if (password is null && IsEncrypted(pem))
                {
                    throw new TlsCredentialException($"the {what} PEM is encrypted; give its password", e) { NeedsPassword = true };
                }

                var hint = password is null ? "if the key is encrypted, give its password" : "check the password";
                throw new TlsCredentialException($"the {what} PEM could not be read ({e.Message}); {hint}", e);
            }

            switch (item)
            {
                case X509Certificate certificate:
                    chain.Add(certificate);
                    break;
                case AsymmetricCipherKeyPair pair:
                    key = pair.Private;
                    break;
                case AsymmetricKeyParameter { IsPrivate: true } privateKey:
                    key = privateKey;
                    break;
            }
        }
        while (item is not null);
    }

    /// <summary>PKCS#8's encrypted form (RFC 5958 §3) or the traditional form's RFC 1421 header.</summary>
    private static bool IsEncrypted(string pem) =>
        pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal)
        || pem.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal);

    private sealed class Password(string password) : IPasswordFinder
    {
        public char[] GetPassword() => password.ToCharArray();
    }
}
