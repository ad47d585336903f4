using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Interop;

/// <summary><c>gnutls-cli</c> (GnuTLS implements record_size_limit, RFC 8449; OpenSSL 3.0 does not) against our server.</summary>
public class GnuTlsClientTests
{
    [Theory]
    [InlineData("NORMAL:-VERS-ALL:+VERS-TLS1.3", TlsVersion.Tls13)]
    [InlineData("NORMAL:-VERS-ALL:+VERS-TLS1.2", TlsVersion.Tls12)]
    public async Task Gnutls_client_with_a_4096_byte_record_limit_gets_a_long_echo_from_our_server(string priority, TlsVersion version)
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        using var directory = new TempDirectory();
        var (cert, _) = certificate.WriteTo(directory.Path, "server");
        var options = new TlsServerOptions { Credentials = new ServerCredentialSet(certificate.Credential), Random = TestRandom.Create() };
        await using var server = new LoopbackTlsServer(options, LoopbackTlsServer.EchoLine);
        var line = new string('r', 20000);

        // gnutls-cli sends record_size_limit (and max_fragment_length) for --recordsize, and fails the
        // connection with a record_overflow alert on any record over its limit.
        var run = await ExternalProcess.RunAsync("gnutls-cli",
        [
            "--x509cafile", cert, "--recordsize=4096", "--priority", priority, "-p", server.Port.ToString(),
            "-d", "4", "localhost",
        ], line + "\n", timeoutSeconds: 60);

        var log = run.Stderr; // -d 4: GnuTLS's debug log, extension by extension
        Assert.True(run.Stdout.Contains(line, StringComparison.Ordinal), log[^Math.Min(3000, log.Length)..]);
        Assert.Contains("Parsing extension 'Record Size Limit/28'", log);
        Assert.DoesNotContain("Maximum Record Size/1' (", log[log.IndexOf("server hello", StringComparison.OrdinalIgnoreCase)..]);
        Assert.Equal(version, Assert.Single(server.Handshakes).Version);
    }

    [Theory]
    [InlineData(ServerKeyType.EcdsaP256, "X25519", "TLS1.3")]
    [InlineData(ServerKeyType.EcdsaP256, "SECP256R1", "TLS1.3")]
    [InlineData(ServerKeyType.EcdsaP384, "SECP384R1", "TLS1.3")]
    [InlineData(ServerKeyType.EcdsaP384, "X25519", "TLS1.2")]
    [InlineData(ServerKeyType.EcdsaP256, "SECP384R1", "TLS1.2")]
    public async Task Gnutls_client_completes_a_handshake_on_each_group(ServerKeyType keyType, string group, string version)
    {
        var certificate = TestPki.Get(keyType);
        using var directory = new TempDirectory();
        var (cert, _) = certificate.WriteTo(directory.Path, "server");
        var options = new TlsServerOptions { Credentials = new ServerCredentialSet(certificate.Credential), Random = TestRandom.Create() };
        await using var server = new LoopbackTlsServer(options, LoopbackTlsServer.EchoLine);

        var run = await ExternalProcess.RunAsync("gnutls-cli",
        [
            "--x509cafile", cert, "--priority", $"NORMAL:-VERS-ALL:+VERS-{version}:-GROUP-ALL:+GROUP-{group}",
            "-p", server.Port.ToString(), "localhost",
        ], "hello from gnutls\n", timeoutSeconds: 60);

        Assert.True(run.Stdout.Contains("hello from gnutls", StringComparison.Ordinal), run.Stdout + run.Stderr);
        Assert.Equal(version == "TLS1.3" ? TlsVersion.Tls13 : TlsVersion.Tls12, Assert.Single(server.Handshakes).Version);
    }
}
