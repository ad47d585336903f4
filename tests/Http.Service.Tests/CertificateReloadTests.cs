using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Encodings.Web;

namespace Apps.Http.Service.Tests;

/// <summary>
/// SIGHUP makes the real service read its --cert/--key files again, as a renewal hook would have it do: curl pins
/// which key a new connection gets, and a .NET client holds one connection open across the reload.
/// </summary>
public sealed class CertificateReloadTests : IDisposable
{
    // The PEM files the service is started with and then reloads; one directory per test.
    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("https-reload-");

    public void Dispose() => _files.Delete(recursive: true);

    private string Cert => Path.Combine(_files.FullName, "cert.pem");

    private string Key => Path.Combine(_files.FullName, "key.pem");

    [Fact]
    public async Task Sighup_serves_a_renewed_pair_to_new_connections_while_an_open_one_carries_on()
    {
        var (cert, key) = (Cert, Key);
        var first = Pair.Write(cert, key, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        await using var service = await ServiceProcess.StartAsync(null, "--cert", cert, "--key", key);
        Assert.Equal(first.Pin, service.PinBase64);

        var handshakes = new List<string>();
        using var client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    lock (handshakes)
                    {
                        handshakes.Add(Pair.PinOf(certificate!));
                    }

                    return true;
                },
            },
        }) { DefaultRequestVersion = HttpVersion.Version11 };
        Assert.Equal("ok\n", await client.GetStringAsync(service.BaseUrl + "/healthz"));

        var renewed = Pair.Write(cert, key, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(90));
        service.Signal("HUP");
        var log = await service.WaitForLogAsync("certificate reloaded from " + cert);

        Assert.Contains("certificate reloaded from " + cert, log);
        Assert.Contains("new key, was " + service.Fingerprint, log);
        Assert.Equal("ok\n", await client.GetStringAsync(service.BaseUrl + "/healthz"));
        Assert.Equal([first.Pin], handshakes);
        var renewedPin = await Curl(service, renewed.Pin, "/healthz");
        Assert.Equal(0, renewedPin.ExitCode);
        Assert.Equal("ok\n", renewedPin.Output);
        Assert.Equal(90, (await Curl(service, first.Pin, "/healthz")).ExitCode); // CURLE_SSL_PINNEDPUBKEYNOTMATCH
        var status = await Curl(service, renewed.Pin, "/status");
        Assert.Contains(HtmlEncoder.Default.Encode(Pair.OpenSshStyle(renewed.Pin)), status.Output);
        Assert.Contains("reloaded at ", status.Output);
        Assert.False(service.HasExited);
    }

    [Fact]
    public async Task Sighup_with_an_unusable_pair_keeps_serving_the_old_one_and_says_why()
    {
        var (cert, key) = (Cert, Key);
        var now = DateTimeOffset.UtcNow;
        var serving = Pair.Write(cert, key, now.AddDays(-1), now.AddDays(30));
        await using var service = await ServiceProcess.StartAsync(null, "--cert", cert, "--key", key);

        var other = Pair.Make(now.AddDays(-1), now.AddDays(30));
        var expired = Pair.Make(now.AddDays(-30), now.AddDays(-1));
        var future = Pair.Make(now.AddDays(2), now.AddDays(30));
        var good = Pair.Make(now.AddDays(-1), now.AddDays(30));
        (string Name, Action Write, string Reason)[] cases =
        [
            ("a key that is not the certificate's", () => File.WriteAllText(key, other.KeyPem), "the private key does not belong to the certificate"),
            ("a certificate cut short", () => File.WriteAllText(cert, good.CertificatePem[..(good.CertificatePem.Length / 2)]), "the certificate PEM could not be read"),
            ("no certificate at all", () => File.WriteAllText(cert, "hello\n"), "no certificate found"),
            ("an expired certificate", () => expired.WriteTo(cert, key), "expired on " + expired.NotAfter.ToString("yyyy-MM-dd")),
            ("a certificate not valid yet", () => future.WriteTo(cert, key), "is not valid before"),
            ("a missing key file", () => File.Delete(key), "cannot read " + key + ": no such file"),
        ];

        foreach (var (name, write, reason) in cases)
        {
            write();
            service.Signal("HUP");
            var line = (await service.WaitForLogAsync(reason)).Split('\n').FirstOrDefault(l => l.Contains(reason, StringComparison.Ordinal));

            Assert.True(line is not null, $"{name}: no line says '{reason}': {service.Log}");
            Assert.StartsWith("fail: Apps.Http.Service[6] certificate reload from " + cert + " refused: ", line);
            Assert.EndsWith("; still serving key " + service.Fingerprint, line);
            var result = await Curl(service, serving.Pin, "/healthz");
            Assert.True(result.ExitCode == 0, $"{name}: curl exit {result.ExitCode}: {result.Error}");
            serving.WriteTo(cert, key);
        }

        good.WriteTo(cert, key);
        service.Signal("HUP");
        await service.WaitForLogAsync("certificate reloaded from");

        Assert.Equal(0, (await Curl(service, good.Pin, "/healthz")).ExitCode);
        Assert.DoesNotContain("reloaded from " + cert + ": key " + Pair.OpenSshStyle(other.Pin), service.Log);
        Assert.False(service.HasExited);
    }

    [Fact]
    public async Task Sighup_to_the_sslstream_anchor_says_it_cannot_reload_and_keeps_serving()
    {
        await using var service = await ServiceProcess.StartAsync(null, "--tls-engine", "sslstream");

        service.Signal("HUP");
        var log = await service.WaitForLogAsync("refused: --tls-engine sslstream");

        Assert.Contains("refused: --tls-engine sslstream (the benchmark anchor) takes its certificate once; restart it instead; still serving key "
            + service.Fingerprint, log);
        Assert.Equal(0, (await Curl(service, service.PinBase64, "/healthz")).ExitCode);
        Assert.False(service.HasExited);
    }

    private static Task<ToolResult> Curl(ServiceProcess service, string pin, string path) =>
        ExternalTool.RunAsync("curl", ["-sS", "--max-time", "30", "-k", "--pinnedpubkey", "sha256//" + pin, service.BaseUrl + path]);

    /// <summary>A self-signed ECDSA P-256 pair for localhost and 127.0.0.1 as PEM, and its key's pin.</summary>
    private sealed record Pair(string CertificatePem, string KeyPem, string Pin, DateTimeOffset NotAfter)
    {
        public static Pair Make(DateTimeOffset notBefore, DateTimeOffset notAfter)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(notBefore, notAfter);
            return new Pair(certificate.ExportCertificatePem() + "\n", key.ExportPkcs8PrivateKeyPem() + "\n",
                Convert.ToBase64String(SHA256.HashData(key.ExportSubjectPublicKeyInfo())), notAfter.ToUniversalTime());
        }

        public static Pair Write(string certificatePath, string keyPath, DateTimeOffset notBefore, DateTimeOffset notAfter)
        {
            var pair = Make(notBefore, notAfter);
            pair.WriteTo(certificatePath, keyPath);
            return pair;
        }

        public static string PinOf(X509Certificate certificate)
        {
            using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return Convert.ToBase64String(SHA256.HashData(loaded.PublicKey.ExportSubjectPublicKeyInfo()));
        }

        /// <summary>The service's "SHA256:..." form of a pin: unpadded base64, as OpenSSH writes it.</summary>
        public static string OpenSshStyle(string pin) => "SHA256:" + pin.TrimEnd('=');

        public void WriteTo(string certificatePath, string keyPath)
        {
            File.WriteAllText(certificatePath, CertificatePem);
            File.WriteAllText(keyPath, KeyPem);
        }
    }
}
