using System.Net;
using System.Text;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Apps.Tls.Credentials;

/// <summary>A self-signed certificate with its key, as PEM text and as a ready credential.</summary>
/// <param name="CertificatePem">The certificate as a PEM CERTIFICATE block.</param>
/// <param name="PrivateKeyPem">The key as an unencrypted PKCS#8 PRIVATE KEY block; keep it secret.</param>
/// <param name="Credential">The same pair, ready for <see cref="ServerCredentialSet"/>.</param>
public sealed record SelfSignedCertificate(string CertificatePem, string PrivateKeyPem, ServerCredential Credential)
{
    /// <summary>Writes both PEM files atomically (write then rename); the key file is made readable by the owner only.</summary>
    public void WritePemFiles(string certificatePath, string privateKeyPath)
    {
        WriteAtomically(privateKeyPath, PrivateKeyPem, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteAtomically(certificatePath, CertificatePem,
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    private static void WriteAtomically(string path, string text, UnixFileMode mode)
    {
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using (var file = new FileStream(temporary, options))
        {
            file.Write(Encoding.ASCII.GetBytes(text));
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>
/// Makes the self-signed ECDSA P-256 certificate an appliance presents until it is given a real one:
/// serverAuth only, not a CA, the given names as subjectAltName (RFC 5280 §4.2.1.6; IP literals become
/// iPAddress entries), signed with ecdsa-with-SHA256.
/// </summary>
public static class ApplianceCertificate
{
    /// <param name="subjectAltNames">DNS names and IP literals the appliance answers to; the first is also the CN.</param>
    /// <param name="now">Start of validity (one hour earlier, to tolerate clock skew).</param>
    /// <param name="random">Randomness for the key and serial number (Fortuna in production).</param>
    /// <param name="validity">How long it is valid; one year by default.</param>
    public static SelfSignedCertificate Create(
        IReadOnlyList<string> subjectAltNames, DateTimeOffset now, SecureRandom random, TimeSpan? validity = null)
    {
        if (subjectAltNames.Count == 0)
        {
            throw new ArgumentException("give at least one DNS name or IP address for the certificate", nameof(subjectAltNames));
        }

        var generator = new ECKeyPairGenerator();
        generator.Init(new ECKeyGenerationParameters(Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP256r1, random));
        var pair = generator.GenerateKeyPair();

        var names = new GeneralName[subjectAltNames.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = IPAddress.TryParse(subjectAltNames[i], out _)
                ? new GeneralName(GeneralName.IPAddress, subjectAltNames[i])
                : new GeneralName(GeneralName.DnsName, subjectAltNames[i]);
        }

        return Issue(new X509Name($"CN={subjectAltNames[0]}"), new GeneralNames(names), pair.Public, pair.Private, now, random, validity);
    }

    /// <summary>
    /// The same certificate again for a new validity period: the same key (so pins of it hold), subject and
    /// subjectAltNames, a new serial number. For an appliance's own certificate before it expires.
    /// </summary>
    /// <param name="certificatePem">The certificate to renew, as <see cref="Create"/> made it.</param>
    /// <param name="privateKeyPem">Its key.</param>
    /// <param name="now">Start of the new validity (one hour earlier, to tolerate clock skew).</param>
    /// <param name="random">Randomness for the serial number and the signature.</param>
    /// <param name="validity">How long it is valid; one year by default.</param>
    public static SelfSignedCertificate Renew(string certificatePem, string privateKeyPem, DateTimeOffset now, SecureRandom random,
        TimeSpan? validity = null)
    {
        var current = PemCredentialReader.ReadParts(certificatePem, privateKeyPem);
        _ = new ServerCredential(current.Chain, current.Key); // refuses no certificate, or a key that is not the certificate's
        var leaf = current.Chain[0];
        if (current.Key is not ECPrivateKeyParameters key || !leaf.SubjectDN.Equivalent(leaf.IssuerDN))
        {
            throw new TlsCredentialException("only a self-signed ECDSA certificate is renewed in place; this one is another kind");
        }

        var names = leaf.GetExtensionValue(X509Extensions.SubjectAlternativeName) is { } extension
            ? GeneralNames.GetInstance(Org.BouncyCastle.X509.Extension.X509ExtensionUtilities.FromExtensionValue(extension))
            : throw new TlsCredentialException("the certificate has no subjectAltName to renew it for");
        return Issue(leaf.SubjectDN, names, leaf.GetPublicKey(), key, now, random, validity);
    }

    private static SelfSignedCertificate Issue(X509Name subject, GeneralNames names, AsymmetricKeyParameter publicKey, AsymmetricKeyParameter privateKey,
        DateTimeOffset now, SecureRandom random, TimeSpan? validity)
    {
        var serial = new byte[16];
        random.NextBytes(serial);
        serial[0] &= 0x7F; // RFC 5280 §4.1.2.2: a positive integer of at most 20 octets.
        serial[0] |= 0x01;

        var builder = new X509V3CertificateGenerator();
        builder.SetSerialNumber(new BigInteger(1, serial));
        builder.SetIssuerDN(subject);
        builder.SetSubjectDN(subject);
        builder.SetNotBefore(now.UtcDateTime.AddHours(-1));
        builder.SetNotAfter(now.UtcDateTime.Add(validity ?? TimeSpan.FromDays(365)));
        builder.SetPublicKey(publicKey);
        builder.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(false));
        builder.AddExtension(X509Extensions.KeyUsage, true, new KeyUsage(KeyUsage.DigitalSignature));
        builder.AddExtension(X509Extensions.ExtendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeID.id_kp_serverAuth));
        builder.AddExtension(X509Extensions.SubjectAlternativeName, false, names);
        var certificate = builder.Generate(new Asn1SignatureFactory("SHA256WITHECDSA", privateKey, random));

        var certificatePem = ToPem(certificate);
        var keyPem = ToPem(PrivateKeyInfoFactory.CreatePrivateKeyInfo(privateKey));
        return new SelfSignedCertificate(certificatePem, keyPem, new ServerCredential([certificate], privateKey));
    }

    private static string ToPem(object value)
    {
        var text = new StringWriter();
        using (var writer = new PemWriter(text))
        {
            if (value is PrivateKeyInfo info)
            {
                writer.WriteObject(new Org.BouncyCastle.Utilities.IO.Pem.PemObject("PRIVATE KEY", info.GetEncoded()));
            }
            else
            {
                writer.WriteObject(value);
            }
        }

        return text.ToString();
    }

}
