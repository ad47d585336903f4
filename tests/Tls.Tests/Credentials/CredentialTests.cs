using System.Security.Cryptography.X509Certificates;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Credentials;

public class CredentialTests
{
    [Theory]
    [InlineData(ServerKeyType.Rsa, "-----BEGIN RSA PRIVATE KEY-----")]
    [InlineData(ServerKeyType.EcdsaP256, "-----BEGIN EC PRIVATE KEY-----")]
    [InlineData(ServerKeyType.EcdsaP384, "-----BEGIN EC PRIVATE KEY-----")]
    public void Traditional_pem_keys_are_read(ServerKeyType type, string header)
    {
        var certificate = TestPki.Get(type);
        Assert.StartsWith(header, certificate.KeyPem);
        var credential = PemCredentialReader.Read(certificate.CertificatePem, certificate.KeyPem);
        Assert.Equal(type, credential.KeyType);
        Assert.Equal(certificate.Der, credential.Chain[0]);
        Assert.Contains("localhost", credential.DnsNames);
    }

    [Theory]
    [InlineData("rsa:2048", ServerKeyType.Rsa)]
    [InlineData("ed25519", ServerKeyType.Ed25519)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-256", ServerKeyType.EcdsaP256)]
    public void Pkcs8_keys_made_by_openssl_are_read_and_serve_a_handshake(string algorithm, ServerKeyType type)
    {
        var parts = algorithm.Split(' ');
        var certificate = parts.Length == 1 ? TestPki.FromOpenSsl(parts[0]) : FromOpenSslEc();
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", certificate.KeyPem);
        var credential = PemCredentialReader.Read(certificate.CertificatePem + certificate.KeyPem);
        Assert.Equal(type, credential.KeyType);

        var pair = EnginePair.Create(certificate, server: s => new TlsServerOptions
        {
            Credentials = new ServerCredentialSet(credential), Random = s.Random,
        });
        pair.Handshake();
    }

    [Fact]
    public async Task Pkcs12_file_made_by_openssl_is_read()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        using var directory = new TempDirectory();
        var (cert, key) = certificate.WriteTo(directory.Path, "server");
        var p12 = Path.Combine(directory.Path, "server.p12");
        var run = await ExternalProcess.RunAsync("openssl",
            ["pkcs12", "-export", "-in", cert, "-inkey", key, "-out", p12, "-passout", "pass:s3cret"]);
        Assert.True(run.ExitCode == 0, run.Stderr);

        var credential = Pkcs12CredentialReader.ReadFile(p12, "s3cret");

        Assert.Equal(certificate.Der, credential.Chain[0]);
        var wrong = Assert.Throws<TlsCredentialException>(() => Pkcs12CredentialReader.ReadFile(p12, "wrong"));
        Assert.Contains("password", wrong.Message);
    }

    [Fact]
    public async Task Encrypted_pkcs8_key_is_read_with_its_password()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        using var directory = new TempDirectory();
        var (_, key) = certificate.WriteTo(directory.Path, "server");
        var encrypted = Path.Combine(directory.Path, "encrypted.key");
        var run = await ExternalProcess.RunAsync("openssl",
            ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", key, "-out", encrypted, "-passout", "pass:hunter2"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var pem = File.ReadAllText(encrypted);
        Assert.StartsWith("-----BEGIN ENCRYPTED PRIVATE KEY-----", pem);

        var credential = PemCredentialReader.Read(certificate.CertificatePem, pem, "hunter2");

        Assert.Equal(ServerKeyType.EcdsaP256, credential.KeyType);
        var missing = Assert.Throws<TlsCredentialException>(() => PemCredentialReader.Read(certificate.CertificatePem, pem));
        Assert.Equal("the key PEM is encrypted; give its password", missing.Message);
        Assert.True(missing.NeedsPassword);
        var wrong = Assert.Throws<TlsCredentialException>(() => PemCredentialReader.Read(certificate.CertificatePem, pem, "wrong"));
        Assert.False(wrong.NeedsPassword);
        Assert.EndsWith("check the password", wrong.Message);
    }

    [Fact]
    public void Key_that_does_not_match_the_certificate_is_refused_with_advice()
    {
        var error = Assert.Throws<TlsCredentialException>(() => PemCredentialReader.Read(
            TestPki.Get(ServerKeyType.EcdsaP256).CertificatePem, TestPki.Get(ServerKeyType.EcdsaP256, "other.test").KeyPem));
        Assert.Contains("does not belong to the certificate", error.Message);
    }

    [Fact]
    public void Missing_key_is_reported_in_one_line()
    {
        var error = Assert.Throws<TlsCredentialException>(() => PemCredentialReader.Read(TestPki.Get(ServerKeyType.Rsa).CertificatePem));
        Assert.Contains("no private key found", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Appliance_certificate_is_usable_by_openssl_and_by_our_server()
    {
        var appliance = ApplianceCertificate.Create(["appliance.local", "192.168.7.1"], TestPki.Now, TestRandom.Create());
        using var directory = new TempDirectory();
        var cert = Path.Combine(directory.Path, "appliance.crt");
        var key = Path.Combine(directory.Path, "appliance.key");
        appliance.WritePemFiles(cert, key);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        var text = await ExternalProcess.RunAsync("openssl", ["x509", "-in", cert, "-noout", "-text"]);
        Assert.Contains("DNS:appliance.local, IP Address:192.168.7.1", text.Stdout);
        Assert.Contains("ecdsa-with-SHA256", text.Stdout);
        Assert.Contains("TLS Web Server Authentication", text.Stdout);
        var keyCheck = await ExternalProcess.RunAsync("openssl", ["pkey", "-in", key, "-noout"]);
        Assert.True(keyCheck.ExitCode == 0, keyCheck.Stderr);
        var verify = await ExternalProcess.RunAsync("openssl", ["verify", "-CAfile", cert, "-attime", TestPki.Now.ToUnixTimeSeconds().ToString(), cert]);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);

        var reread = PemCredentialReader.ReadFiles(cert, key);
        Assert.Equal(ServerKeyType.EcdsaP256, reread.KeyType);
        Assert.Equal(["appliance.local"], reread.DnsNames);
    }

    [Fact]
    public async Task Renewed_appliance_certificate_keeps_its_key_and_names_for_a_new_period()
    {
        var made = ApplianceCertificate.Create(["appliance.local", "192.168.7.1"], TestPki.Now, TestRandom.Create(), TimeSpan.FromDays(10));
        var later = TestPki.Now.AddDays(9);

        var renewed = ApplianceCertificate.Renew(made.CertificatePem, made.PrivateKeyPem, later, TestRandom.Create());

        using var before = X509Certificate2.CreateFromPem(made.CertificatePem);
        using var after = X509Certificate2.CreateFromPem(renewed.CertificatePem);
        Assert.Equal(before.PublicKey.ExportSubjectPublicKeyInfo(), after.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(made.PrivateKeyPem, renewed.PrivateKeyPem);
        Assert.Equal(before.Subject, after.Subject);
        Assert.NotEqual(before.SerialNumber, after.SerialNumber);
        Assert.Equal(later.AddDays(365).UtcDateTime, after.NotAfter.ToUniversalTime(), TimeSpan.FromSeconds(1));
        using var directory = new TempDirectory();
        var cert = Path.Combine(directory.Path, "renewed.crt");
        renewed.WritePemFiles(cert, Path.Combine(directory.Path, "renewed.key"));
        var text = await ExternalProcess.RunAsync("openssl", ["x509", "-in", cert, "-noout", "-text"]);
        Assert.Contains("DNS:appliance.local, IP Address:192.168.7.1", text.Stdout);
        var verify = await ExternalProcess.RunAsync("openssl", ["verify", "-CAfile", cert, "-attime", later.AddDays(300).ToUnixTimeSeconds().ToString(), cert]);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);

        var foreign = TestPki.Get(ServerKeyType.EcdsaP256);
        var refused = Assert.Throws<TlsCredentialException>(() => ApplianceCertificate.Renew(made.CertificatePem, foreign.KeyPem, later, TestRandom.Create()));
        Assert.Contains("does not belong to the certificate", refused.Message);
    }

    private static TestCertificate FromOpenSslEc()
    {
        using var directory = new TempDirectory();
        var key = Path.Combine(directory.Path, "k.pem");
        var cert = Path.Combine(directory.Path, "c.pem");
        var run = ExternalProcess.RunAsync("openssl",
        [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
            "-days", "365", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        ]).GetAwaiter().GetResult();
        Assert.True(run.ExitCode == 0, run.Stderr);
        var pem = File.ReadAllText(cert);
        return new TestCertificate(pem, File.ReadAllText(key),
            new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(System.Text.Encoding.ASCII.GetBytes(pem)));
    }
}
