using System.Net;
using Apps.Tls.Credentials;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Apps.Tls.Tests.TestSupport;

/// <summary>Certificates made at test time: self-signed server certificates of each key type.</summary>
internal static class TestPki
{
    public static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<(ServerKeyType, string), TestCertificate> Cache = new();

    /// <summary>A cached certificate for <paramref name="names"/> (comma separated) with the given key type.</summary>
    public static TestCertificate Get(ServerKeyType type, string names = "localhost,127.0.0.1")
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue((type, names), out var value))
            {
                value = Issue(type, names.Split(','));
                Cache[(type, names)] = value;
            }

            return value;
        }
    }

    public static TestCertificate Issue(ServerKeyType type, IReadOnlyList<string> names)
    {
        var random = TestRandom.Create();
        var pair = Generate(type, random);
        var generalNames = new List<GeneralName>();
        foreach (var name in names)
        {
            generalNames.Add(IPAddress.TryParse(name, out _)
                ? new GeneralName(GeneralName.IPAddress, name)
                : new GeneralName(GeneralName.DnsName, name));
        }

        var subject = new X509Name($"CN={names[0]}");
        var builder = new X509V3CertificateGenerator();
        builder.SetSerialNumber(BigInteger.ValueOf(Random.Shared.NextInt64(1, long.MaxValue)));
        builder.SetIssuerDN(subject);
        builder.SetSubjectDN(subject);
        builder.SetNotBefore(Now.UtcDateTime.AddDays(-30));
        builder.SetNotAfter(Now.UtcDateTime.AddDays(3650));
        builder.SetPublicKey(pair.Public);
        builder.AddExtension(X509Extensions.BasicConstraints, true, new BasicConstraints(false));
        builder.AddExtension(X509Extensions.ExtendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeID.id_kp_serverAuth));
        builder.AddExtension(X509Extensions.SubjectAlternativeName, false, new GeneralNames([.. generalNames]));
        var algorithm = type switch
        {
            ServerKeyType.Rsa => "SHA256WITHRSA",
            ServerKeyType.EcdsaP384 => "SHA384WITHECDSA",
            ServerKeyType.Ed25519 => "Ed25519",
            _ => "SHA256WITHECDSA",
        };
        var certificate = builder.Generate(new Asn1SignatureFactory(algorithm, pair.Private, random));
        return new TestCertificate(Pem(certificate), Pem(pair.Private), certificate);
    }

    private static AsymmetricCipherKeyPair Generate(ServerKeyType type, SecureRandom random)
    {
        switch (type)
        {
            case ServerKeyType.Rsa:
                var rsa = new RsaKeyPairGenerator();
                rsa.Init(new RsaKeyGenerationParameters(BigInteger.ValueOf(65537), random, 2048, 100));
                return rsa.GenerateKeyPair();
            case ServerKeyType.Ed25519:
                var ed = new Ed25519KeyPairGenerator();
                ed.Init(new Ed25519KeyGenerationParameters(random));
                return ed.GenerateKeyPair();
            default:
                var ec = new ECKeyPairGenerator();
                ec.Init(new ECKeyGenerationParameters(
                    type == ServerKeyType.EcdsaP384
                        ? Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP384r1
                        : Org.BouncyCastle.Asn1.Sec.SecObjectIdentifiers.SecP256r1,
                    random));
                return ec.GenerateKeyPair();
        }
    }

    /// <summary>A certificate and PKCS#8 key made by <c>openssl req</c> (key algorithm as openssl names it).</summary>
    public static TestCertificate FromOpenSsl(string algorithm, string name = "localhost")
    {
        using var directory = new TempDirectory();
        var key = Path.Combine(directory.Path, "k.pem");
        var cert = Path.Combine(directory.Path, "c.pem");
        var run = ExternalProcess.RunAsync("openssl",
        [
            "req", "-x509", "-newkey", algorithm, "-nodes", "-keyout", key, "-out", cert, "-days", "365",
            "-subj", $"/CN={name}", "-addext", $"subjectAltName=DNS:{name},IP:127.0.0.1",
        ]).GetAwaiter().GetResult();
        Assert.True(run.ExitCode == 0, run.Stderr);
        var certificatePem = File.ReadAllText(cert);
        return new TestCertificate(certificatePem, File.ReadAllText(key),
            new X509CertificateParser().ReadCertificate(System.Text.Encoding.ASCII.GetBytes(certificatePem)));
    }

    public static string Pem(object value)
    {
        var text = new StringWriter();
        using (var writer = new PemWriter(text))
        {
            writer.WriteObject(value);
        }

        return text.ToString();
    }
}

/// <summary>A certificate and its key as PEM (the key in the traditional form PemWriter emits).</summary>
internal sealed record TestCertificate(string CertificatePem, string KeyPem, X509Certificate Certificate)
{
    public ServerCredential Credential => PemCredentialReader.Read(CertificatePem, KeyPem);

    public byte[] Der => Certificate.GetEncoded();

    /// <summary>SHA-256 of the SubjectPublicKeyInfo, as curl's --pinnedpubkey wants it (base64).</summary>
    public string SpkiSha256Base64 =>
        Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(
            Certificate.CertificateStructure.SubjectPublicKeyInfo.GetEncoded()));

    /// <summary>Writes the PEM files into <paramref name="directory"/> and returns their paths.</summary>
    public (string Certificate, string Key) WriteTo(string directory, string stem)
    {
        var certificate = Path.Combine(directory, stem + ".crt");
        var key = Path.Combine(directory, stem + ".key");
        File.WriteAllText(certificate, CertificatePem);
        File.WriteAllText(key, KeyPem);
        return (certificate, key);
    }
}
