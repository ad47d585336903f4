using System.Net;
using System.Net.Sockets;
using System.Text;
using Apps.Tls.Adapters;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Interop;

/// <summary>Our client against Debian's <c>openssl s_server -www</c> on 127.0.0.1.</summary>
public class OpenSslServerTests
{
    [Theory]
    [InlineData(ServerKeyType.EcdsaP256, "-tls1_3", "X25519", "TLSv1.3")]
    [InlineData(ServerKeyType.EcdsaP256, "-tls1_3", "P-256", "TLSv1.3")]
    [InlineData(ServerKeyType.Rsa, "-tls1_3", "X25519", "TLSv1.3")]
    [InlineData(ServerKeyType.EcdsaP256, "-tls1_2", "X25519", "TLSv1.2")]
    [InlineData(ServerKeyType.Rsa, "-tls1_2", "P-256", "TLSv1.2")]
    [InlineData(ServerKeyType.EcdsaP384, "-tls1_3", "P-384", "TLSv1.3")]
    [InlineData(ServerKeyType.EcdsaP256, "-tls1_2", "P-384", "TLSv1.2")]
    public async Task Our_client_completes_a_handshake_with_openssl(ServerKeyType keyType, string version, string group, string expected)
    {
        var certificate = TestPki.Get(keyType);
        await using var server = await StartServerAsync(certificate, version, "-groups", group, "-alpn", "h2,http/1.1");

        var (info, page) = await GetPageAsync(server.Port, ClientOptions(certificate, alpn: ["http/1.1"]));

        Assert.Equal(expected == "TLSv1.3" ? TlsVersion.Tls13 : TlsVersion.Tls12, info.Version);
        Assert.Equal("http/1.1", info.ApplicationProtocol);
        Assert.Contains(expected, page);
        if (info.Version == TlsVersion.Tls13)
        {
            Assert.Contains(info.CipherSuiteName, page, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("ed25519", "-tls1_3")]
    [InlineData("ed25519", "-tls1_2")]
    [InlineData("rsa:2048", "-tls1_3")]
    public async Task Our_client_accepts_openssl_made_certificates(string algorithm, string version)
    {
        var certificate = TestPki.FromOpenSsl(algorithm);
        await using var server = await StartServerAsync(certificate, version);
        var (info, page) = await GetPageAsync(server.Port, ClientOptions(certificate));
        Assert.Equal(certificate.Der, info.PeerChain[0]);
        Assert.Contains(version == "-tls1_3" ? "TLSv1.3" : "TLSv1.2", page);
    }

    [Fact]
    public async Task Our_client_resumes_a_tls12_session_and_openssl_reports_it_reused()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        await using var server = await StartServerAsync(certificate, "-tls1_2");
        var cache = new TlsSessionCache();
        var options = ClientOptions(certificate, cache: cache, version: TlsVersion.Tls12);

        var (first, firstPage) = await GetPageAsync(server.Port, options);
        var (second, secondPage) = await GetPageAsync(server.Port, options);

        Assert.False(first.Resumed);
        Assert.DoesNotContain("Reused", firstPage);
        Assert.True(second.Resumed);
        Assert.Contains("Reused, TLSv1.2", secondPage);
    }

    [Fact]
    public async Task Our_client_resumes_from_an_openssl_ticket_when_openssl_keeps_no_session_cache()
    {
        var certificate = TestPki.Get(ServerKeyType.Rsa);
        await using var server = await StartServerAsync(certificate, "-tls1_2", "-no_cache");
        var cache = new TlsSessionCache();
        var options = ClientOptions(certificate, cache: cache);

        var (first, firstPage) = await GetPageAsync(server.Port, options);
        Assert.NotNull(cache.FindEntry("localhost", TimeProvider.System.GetUtcNow())?.Ticket);
        var (second, secondPage) = await GetPageAsync(server.Port, options);

        Assert.Equal(TlsVersion.Tls12, first.Version);
        Assert.False(first.Resumed);
        Assert.Contains("New, TLSv1.2", firstPage);
        Assert.True(second.Resumed);
        Assert.Contains("Reused, TLSv1.2", secondPage);
    }

    [Fact]
    public async Task Our_client_refuses_an_unexpected_certificate_and_openssl_sees_the_alert()
    {
        var served = TestPki.Get(ServerKeyType.EcdsaP256);
        await using var server = await StartServerAsync(served, "-tls1_3");

        var error = await Assert.ThrowsAsync<TlsCertificateRejectedException>(
            () => GetPageAsync(server.Port, ClientOptions(TestPki.Get(ServerKeyType.Rsa))));

        Assert.Equal(TlsAlertDescription.UnknownCa, error.Alert!.Value.Description);
        await server.Process.WaitForOutputAsync("unknown ca");
    }

    [Fact]
    public async Task Our_client_answers_a_hello_request_with_no_renegotiation()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        await using var server = await StartServerAsync(certificate, "-tls1_2", "-msg", "--www-off");
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, server.Port);
        await using var connection = await TlsConnection.ConnectAsync(tcp.GetStream(), ClientOptions(certificate));
        await using var stream = connection.AsStream();
        await connection.Output.WriteAsync("hello\n"u8.ToArray());
        await server.Process.WaitForOutputAsync("hello");

        // s_server: a line "r" sends a HelloRequest (RFC 5246 §7.4.1.1). We answer with the
        // no_renegotiation warning (RFC 5246 §7.2.2); OpenSSL then chooses to end the connection.
        // Like SslStream, the connection handles what the peer sends while the application reads.
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[256];
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        });
        await server.Process.StandardInput.WriteLineAsync("r");
        await server.Process.StandardInput.FlushAsync();
        await server.Process.WaitForOutputAsync("no_renegotiation");

        var error = await Assert.ThrowsAsync<TlsException>(() => reading);
        Assert.True(error.AlertFromPeer);
        Assert.Equal(TlsAlertDescription.HandshakeFailure, error.Alert!.Value.Description);
        Assert.DoesNotContain("ClientHello", server.Process.Stdout[server.Process.Stdout.IndexOf("HelloRequest", StringComparison.Ordinal)..]);
    }

    internal static TlsClientOptions ClientOptions(
        TestCertificate expected, IReadOnlyList<string>? alpn = null, TlsSessionCache? cache = null, TlsVersion? version = null) => new()
    {
        ServerName = "localhost",
        Verifier = new ExpectedKeyVerifier(expected),
        Random = TestRandom.Create(),
        ApplicationProtocols = alpn ?? [],
        SessionCache = cache,
        OnlyVersion = version,
    };

    private static async Task<(TlsConnectionInfo Info, string Page)> GetPageAsync(int port, TlsClientOptions options)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var connection = await TlsConnection.ConnectAsync(tcp.GetStream(), options);
        await using var stream = connection.AsStream();
        await stream.WriteAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray());
        var page = new MemoryStream();
        try
        {
            await stream.CopyToAsync(page);
        }
        catch (TlsException)
        {
            // s_server -www may close the socket right after its close_notify.
        }

        return (connection.Connection, Encoding.ASCII.GetString(page.ToArray()));
    }

    private static async Task<RunningServer> StartServerAsync(TestCertificate certificate, params string[] options)
    {
        var directory = new TempDirectory();
        var (cert, key) = certificate.WriteTo(directory.Path, "server");
        var port = ExternalProcess.FreePort();
        string[] www = options.Contains("--www-off") ? [] : ["-www"];
        var process = ExternalProcess.Start("openssl",
            ["s_server", "-accept", $"127.0.0.1:{port}", "-cert", cert, "-key", key, .. www, .. options.Where(o => o != "--www-off")]);
        try
        {
            await process.WaitForOutputAsync("ACCEPT");
        }
        catch
        {
            await process.DisposeAsync();
            directory.Dispose();
            throw;
        }

        return new RunningServer(process, directory, port);
    }

    private sealed record RunningServer(ExternalProcess Process, TempDirectory Directory, int Port) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Process.DisposeAsync();
            Directory.Dispose();
        }
    }
}
