using System.Text.Json;

namespace Apps.Http.Service.Tests;

/// <summary>
/// Debian's testssl.sh, the scanner an operator points at a new HTTPS service, runs its default scan of the service's
/// built-in page: protocols, cipher suites, forward secrecy, the certificate, HTTP security headers, the known TLS
/// vulnerabilities (Heartbleed, CCS injection, Ticketbleed, ROBOT, renegotiation, CRIME, BREACH, POODLE, ...) and the
/// handshakes of some forty simulated clients. The service's certificate is handed to it as a CA (<c>--add-ca</c>),
/// as an operator who pinned it would; DNS lookups are off, so the scan stays on loopback, or in the namespace the
/// test makes.
/// </summary>
public sealed class TestsslScanTests
{
    /// <summary>A self-signed certificate has no issuer to name a CRL or OCSP responder; testssl rates that HIGH.</summary>
    private static readonly string[] ExpectedFindings = ["cert_revocation"];

    private sealed record Finding(string Section, string Id, string Severity, string Text)
    {
        public override string ToString() => $"{Section}/{Id} {Severity}: {Text}";
    }

    [Fact]
    public async Task Testssl_default_scan_finds_nothing_but_the_self_signed_certificates_missing_revocation_source()
    {
        await using var service = await ServiceProcess.StartAsync();

        var findings = await ScanAsync(arguments => ExternalTool.RunAsync("testssl", arguments, timeoutSeconds: 600),
            service.BaseUrl + "/", Path.Combine(service.DataDirectory, "https-certificate.pem"));

        AssertClean(findings);
        Assert.Equal("ok\n", (await ExternalTool.CurlAsync(service, service.BaseUrl + "/healthz")).Output);
        AssertNoErrorLogged(service);
    }

    // The same scan over our own TCP/IP stack: some 400 connections, with testssl's hostile probes and abrupt closes,
    // from the Linux kernel in a namespace the test makes, through a TAP device to the service's stack.
    [Fact]
    public async Task Testssl_finds_the_same_over_our_stack_on_a_tap_device()
    {
        var suffix = Apps.TestSupport.LinuxNamespace.UniqueSuffix();
        var device = "ats" + suffix;
        var keys = Directory.CreateTempSubdirectory("testssl-tap-");
        try
        {
            // The self-signed certificate names localhost and loopback only; this one names the stack's address.
            var certificate = Path.Combine(keys.FullName, "cert.pem");
            var key = Path.Combine(keys.FullName, "key.pem");
            var made = await ExternalTool.MakeSelfSignedPairAsync(key, certificate, days: 365, "/CN=10.78.0.2", "IP:10.78.0.2");
            Assert.Equal(0, made.ExitCode);
            await using var service = await ServiceProcess.StartAsync(null,
                "--stack", $"tap:{device},ip=10.78.0.2/24", "--listen", "10.78.0.2:8443", "--cert", certificate, "--key", key);
            await using var ns = await Apps.TestSupport.LinuxNamespace.AdoptAsync("apps-testssl-" + suffix, device, "10.78.0.1/24");

            var findings = await ScanAsync(arguments => ExternalTool.RunAsync("ip", ["netns", "exec", ns.Name, "testssl", .. arguments], timeoutSeconds: 600),
                "https://10.78.0.2:8443/", certificate);

            AssertClean(findings);
            var health = await ns.ExecAsync("curl", "-sS", "--max-time", "30", "--cacert", certificate, "https://10.78.0.2:8443/healthz");
            Assert.Equal("ok\n", health.Output);
            AssertNoErrorLogged(service);
        }
        finally
        {
            keys.Delete(recursive: true);
        }
    }

    /// <summary>Runs testssl's default scan of <paramref name="url"/>, trusting <paramref name="ca"/>, and reads its JSON report.</summary>
    private static async Task<List<Finding>> ScanAsync(Func<string[], Task<ToolResult>> run, string url, string ca)
    {
        var report = Directory.CreateTempSubdirectory("testssl-");
        try
        {
            var json = Path.Combine(report.FullName, "scan.json");
            var scan = await run(["--quiet", "--color", "0", "--warnings", "off", "--nodns", "none", "--add-ca", ca, "--jsonfile-pretty", json, url]);
            Assert.True(scan.ExitCode == 0, $"testssl exited with {scan.ExitCode}:\n{scan.Output}\n{scan.Error}");
            return Read(json);
        }
        finally
        {
            report.Delete(recursive: true);
        }
    }

    private static void AssertClean(List<Finding> findings)
    {
        string Of(string id) => Assert.Single(findings, f => f.Id == id).Text;
        string SeverityOf(string id) => Assert.Single(findings, f => f.Id == id).Severity;

        var unexpected = findings.Where(f => f.Severity is not ("OK" or "INFO") && !ExpectedFindings.Contains(f.Id)).ToList();
        Assert.True(unexpected.Count == 0, "testssl found:\n" + string.Join('\n', unexpected));

        // Nothing before TLS 1.2 is offered. (testssl's own TLS 1.2 probe says "not offered": its hand-made
        // ClientHello lacks the extended master secret, which the engine requires of 1.2 clients, RFC 7627 §5.3;
        // the simulated clients below that send it do get TLS 1.2.)
        foreach (var legacy in new[] { "SSLv2", "SSLv3", "TLS1", "TLS1_1" })
        {
            Assert.Equal("not offered", Of(legacy));
        }

        Assert.Equal("offered with final", Of("TLS1_3"));
        Assert.Equal("h2", Of("ALPN_HTTP2"));
        Assert.Equal("passed.", Of("cert_chain_of_trust"));
        Assert.Equal("OK", SeverityOf("cert_signatureAlgorithm"));
        Assert.Equal("OK", SeverityOf("HSTS_time"));
        Assert.Equal("DENY", Of("X-Frame-Options"));
        Assert.Equal("nosniff", Of("X-Content-Type-Options"));
        Assert.Contains("no HTTP compression", Of("BREACH"));

        // The vulnerability checks ran, each with its verdict (the severity check above holds them to OK).
        foreach (var check in new[] { "heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_client_renego", "POODLE_SSL", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4" })
        {
            Assert.Equal("OK", SeverityOf(check));
        }

        // Today's clients get TLS 1.3; clients of TLS 1.2 only that send the extended master secret get 1.2 with
        // ECDHE and an AEAD suite; whatever connects, connects with one of the two. (Ids as testssl 3.0.8 names them.)
        foreach (var client in new[] { "chrome_101_win10", "firefox_100_win10", "safari_154_osx_1231", "edge_101_win10_21h2", "android_12", "java1703", "go_1178", "openssl_303" })
        {
            Assert.StartsWith("TLSv1.3 TLS_", Of("clientsimulation-" + client));
        }

        foreach (var client in new[] { "ie_11_win10", "java_8u161", "android_81", "openssl_110l" })
        {
            Assert.Matches("^TLSv1.2 ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$", Of("clientsimulation-" + client));
        }

        var simulations = findings.Where(f => f.Id.StartsWith("clientsimulation-", StringComparison.Ordinal)).ToList();
        Assert.True(simulations.Count >= 30, $"only {simulations.Count} client simulations ran");
        Assert.All(simulations, f => Assert.Matches("^(TLSv1\\.[23] |No connection$)", f.Text));
    }

    /// <summary>testssl's hostile probes (SSLv2 hellos, heartbeats, CCS injection, ...) end in an alert or a close, nothing worse.</summary>
    private static void AssertNoErrorLogged(ServiceProcess service) =>
        Assert.DoesNotContain(service.Log.Split('\n'), line => line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal));

    private static List<Finding> Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var findings = new List<Finding>();
        foreach (var section in Assert.Single(document.RootElement.GetProperty("scanResult").EnumerateArray()).EnumerateObject())
        {
            if (section.Value.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var item in section.Value.EnumerateArray())
            {
                findings.Add(new Finding(section.Name, item.GetProperty("id").GetString()!, item.GetProperty("severity").GetString()!,
                    item.GetProperty("finding").GetString()!));
            }
        }

        return findings;
    }
}
