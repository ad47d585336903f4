using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Interop;

/// <summary><c>openssl s_client</c> and curl against our server on 127.0.0.1.</summary>
public class OpenSslClientTests
{
    private static TlsServerOptions ServerOptions(ServerCredentialSet credentials, TlsSessionCache? cache = null, params string[] alpn) => new()
    {
        Credentials = credentials, Random = TestRandom.Create(), SessionCache = cache, ApplicationProtocols = alpn,
    };

    [Theory]
    [InlineData(ServerKeyType.EcdsaP256, "-tls1_3", "X25519", "TLSv1.3")]
    [InlineData(ServerKeyType.EcdsaP256, "-tls1_3", "P-256", "TLSv1.3")]
    [InlineData(ServerKeyType.Rsa, "-tls1_3", "X25519", "TLSv1.3")]
    [InlineData(ServerKeyType.EcdsaP256, "-tls1_2", "P-256", "TLSv1.2")]
    [InlineData(ServerKeyType.Rsa, "-tls1_2", "X25519", "TLSv1.2")]
    [InlineData(ServerKeyType.EcdsaP384, "-tls1_3", "P-384", "TLSv1.3")]
    [InlineData(ServerKeyType.EcdsaP384, "-tls1_2", "P-384", "TLSv1.2")]
    [InlineData(ServerKeyType.Ed25519, "-tls1_3", "X25519", "TLSv1.3")]
    [InlineData(ServerKeyType.Ed25519, "-tls1_2", "X25519", "TLSv1.2")]
    public async Task Openssl_client_verifies_our_server_and_echoes(ServerKeyType keyType, string version, string group, string expected)
    {
        var certificate = TestPki.Get(keyType);
        using var directory = new TempDirectory();
        var (cert, _) = certificate.WriteTo(directory.Path, "server");
        await using var server = new LoopbackTlsServer(
            ServerOptions(new ServerCredentialSet(certificate.Credential), null, "h2", "http/1.1"), LoopbackTlsServer.EchoLine);

        var run = await ExternalProcess.RunAsync("openssl",
        [
            "s_client", "-connect", $"127.0.0.1:{server.Port}", "-servername", "localhost", version, "-groups", group,
            "-alpn", "http/1.1", "-CAfile", cert, "-verify_return_error", "-verify_hostname", "localhost", "-brief", "-ign_eof",
        ], "hello from openssl\n");

        var output = run.Stdout + run.Stderr;
        Assert.True(run.ExitCode == 0, output);
        Assert.Contains($"Protocol version: {expected}", output);
        Assert.Contains("Verification: OK", output);
        Assert.Contains("hello from openssl", run.Stdout);
        var info = Assert.Single(server.Handshakes);
        Assert.Equal("http/1.1", info.ApplicationProtocol);
        Assert.Equal("localhost", info.ServerName);
    }

    [Fact]
    public async Task Openssl_client_gets_the_certificate_its_sni_names()
    {
        var one = TestPki.Get(ServerKeyType.EcdsaP256, "one.test");
        var two = TestPki.Get(ServerKeyType.Rsa, "two.test");
        await using var server = new LoopbackTlsServer(
            ServerOptions(new ServerCredentialSet(one.Credential, two.Credential)), LoopbackTlsServer.Echo);

        foreach (var (name, expected) in new[] { ("one.test", "CN = one.test"), ("two.test", "CN = two.test") })
        {
            var run = await ExternalProcess.RunAsync("openssl",
                ["s_client", "-connect", $"127.0.0.1:{server.Port}", "-servername", name, "-brief"], "x\n");
            Assert.Contains($"Peer certificate: {expected}", run.Stdout + run.Stderr);
        }
    }

    [Fact]
    public async Task Openssl_client_resumes_a_tls12_session_with_our_server()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        using var directory = new TempDirectory();
        var session = Path.Combine(directory.Path, "session.pem");
        await using var server = new LoopbackTlsServer(
            ServerOptions(new ServerCredentialSet(certificate.Credential), new TlsSessionCache()), LoopbackTlsServer.Echo);
        string[] common = ["s_client", "-connect", $"127.0.0.1:{server.Port}", "-servername", "localhost", "-tls1_2", "-no_ticket"];

        var first = await ExternalProcess.RunAsync("openssl", [.. common, "-sess_out", session], "x\n");
        var second = await ExternalProcess.RunAsync("openssl", [.. common, "-sess_in", session], "x\n");

        Assert.Contains("New, TLSv1.2", first.Stdout);
        Assert.Contains("Reused, TLSv1.2", second.Stdout);
        Assert.Equal([false, true], server.Handshakes.Select(h => h.Resumed).ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // no SNI: a client that connects by address still gets and uses a ticket
    public async Task Openssl_client_resumes_from_a_ticket_our_server_issued_and_keeps_no_state_for(bool sendServerName)
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        using var directory = new TempDirectory();
        var session = Path.Combine(directory.Path, "session.pem");
        var options = new TlsServerOptions
        {
            Credentials = new ServerCredentialSet(certificate.Credential), Random = TestRandom.Create(),
            TicketKeys = new SessionTicketKeys(TestRandom.Create(), ticketLifetime: TimeSpan.FromMinutes(30)),
        };
        await using var server = new LoopbackTlsServer(options, LoopbackTlsServer.Echo);
        string[] common = sendServerName
            ? ["s_client", "-connect", $"127.0.0.1:{server.Port}", "-servername", "localhost", "-tls1_2"]
            : ["s_client", "-connect", $"127.0.0.1:{server.Port}", "-noservername", "-tls1_2"];

        var first = await ExternalProcess.RunAsync("openssl", [.. common, "-sess_out", session], "x\n");
        var second = await ExternalProcess.RunAsync("openssl", [.. common, "-sess_in", session], "x\n");

        Assert.Contains("New, TLSv1.2", first.Stdout);
        Assert.Contains("TLS session ticket lifetime hint: 1800 (seconds)", first.Stdout);
        Assert.Contains("Reused, TLSv1.2", second.Stdout);
        Assert.Equal([false, true], server.Handshakes.Select(h => h.Resumed).ToArray());
    }

    [Theory]
    [InlineData("-tls1_3")]
    [InlineData("-tls1_2")]
    public async Task Openssl_client_small_and_padded_records_reach_our_server_whole(string version)
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        await using var server = new LoopbackTlsServer(
            ServerOptions(new ServerCredentialSet(certificate.Credential)), LoopbackTlsServer.EchoLine);
        var line = new string('p', 5000);
        string[] padding = version == "-tls1_3" ? ["-record_padding", "256"] : [];

        var run = await ExternalProcess.RunAsync("openssl",
            ["s_client", "-connect", $"127.0.0.1:{server.Port}", version, "-max_send_frag", "512", .. padding, "-quiet"], line + "\n");

        Assert.Contains(line, run.Stdout);
        Assert.Single(server.Handshakes);
    }

    [Fact]
    public async Task Openssl_client_renegotiation_is_refused()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        await using var server = new LoopbackTlsServer(
            ServerOptions(new ServerCredentialSet(certificate.Credential)), LoopbackTlsServer.Echo);

        // s_client reads "R" on a line of its own as "renegotiate" (TLS 1.2 only).
        var run = await ExternalProcess.RunAsync("openssl",
            ["s_client", "-connect", $"127.0.0.1:{server.Port}", "-tls1_2"], "R\n");

        Assert.Contains("RENEGOTIATING", run.Stdout + run.Stderr);
        Assert.Contains("no renegotiation", run.Stdout + run.Stderr);
        Assert.Single(server.Handshakes);
    }

    [Theory]
    [InlineData("--tlsv1.3", "")]
    [InlineData("--tlsv1.2", "1.2")]
    public async Task Curl_fetches_from_our_server_with_ca_file_and_pinned_key(string minimum, string maximum)
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256, "appliance.test");
        using var directory = new TempDirectory();
        var (cert, _) = certificate.WriteTo(directory.Path, "server");
        await using var server = new LoopbackTlsServer(
            ServerOptions(new ServerCredentialSet(certificate.Credential), null, "http/1.1"),
            LoopbackTlsServer.HttpResponder("hello curl"));

        List<string> arguments =
        [
            "--silent", "--show-error", "--http1.1", minimum, "--cacert", cert,
            "--pinnedpubkey", $"sha256//{certificate.SpkiSha256Base64}",
            "--resolve", $"appliance.test:{server.Port}:127.0.0.1", $"https://appliance.test:{server.Port}/",
        ];
        if (maximum.Length > 0)
        {
            arguments.InsertRange(0, ["--tls-max", maximum]);
        }

        var run = await ExternalProcess.RunAsync("curl", arguments);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal("hello curl", run.Stdout.Trim());
        var info = Assert.Single(server.Handshakes);
        Assert.Equal(maximum.Length > 0 ? TlsVersion.Tls12 : TlsVersion.Tls13, info.Version);
        Assert.Equal("appliance.test", info.ServerName);
    }

    [Fact]
    public async Task Curl_refuses_our_server_when_the_pin_differs()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256, "appliance.test");
        using var directory = new TempDirectory();
        var (cert, _) = certificate.WriteTo(directory.Path, "server");
        await using var server = new LoopbackTlsServer(
            ServerOptions(new ServerCredentialSet(certificate.Credential)), LoopbackTlsServer.HttpResponder("secret"));

        var run = await ExternalProcess.RunAsync("curl",
        [
            "--silent", "--cacert", cert, "--pinnedpubkey", $"sha256//{TestPki.Get(ServerKeyType.Rsa).SpkiSha256Base64}",
            "--resolve", $"appliance.test:{server.Port}:127.0.0.1", $"https://appliance.test:{server.Port}/",
        ]);

        Assert.Equal(90, run.ExitCode); // CURLE_SSL_PINNEDPUBKEYNOTMATCH
        Assert.DoesNotContain("secret", run.Stdout);
    }
}
