using System.Diagnostics;
using System.Net;
using Apps.Conduit.Endpoints;
using Apps.Conduit.Trust;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Verification;
using Apps.TrustStore.Store;

namespace Apps.Conduit.Tests;

/// <summary>Every connection, plain or TLS, client or server, is one <c>Apps.Conduit</c> span with its endpoint,
/// transport, remote address and, under TLS, version, cipher suite and ALPN.</summary>
public sealed class TracingTests(EntropyFixture entropy) : IClassFixture<EntropyFixture>, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("conduit-trace-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task Plain_client_and_server_connections_are_traced()
    {
        using var spans = new SpanRecorder();
        await using var network = new ConduitNetwork(new ConduitOptions());
        await using var listener = await network.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var endpoint = ConduitEndpoint.Parse($"tcp://127.0.0.1:{listener.LocalEndPoint.Port}");

        var accepting = listener.AcceptAsync().AsTask();
        string clientAddress;
        await using (var client = await network.ConnectAsync(endpoint))
        {
            clientAddress = client.LocalEndPoint!.ToString()!;
            await using var accepted = await accepting;
        }

        var connect = spans.Single("conduit.connect", "endpoint", endpoint.ToString());
        var accept = spans.Single("conduit.accept", "peer", clientAddress);
        Assert.Equal(ActivityKind.Client, connect.Kind);
        Assert.Equal("host", connect.GetTagItem("transport"));
        Assert.Equal(listener.LocalEndPoint.ToString(), connect.GetTagItem("peer"));
        Assert.Equal("Plain", connect.GetTagItem("target.security"));
        Assert.Null(connect.GetTagItem("tls.version"));
        Assert.Equal(ActivityKind.Server, accept.Kind);
        Assert.Equal("host", accept.GetTagItem("transport"));
        Assert.Equal(listener.LocalEndPoint.ToString(), accept.GetTagItem("endpoint"));
    }

    [Fact]
    public async Task Tls_client_and_server_connections_carry_version_cipher_and_alpn()
    {
        using var spans = new SpanRecorder();
        using var store = PinStore.Open(Path.Combine(_directory.FullName, "trust.db"));
        await using var network = new ConduitNetwork(new ConduitOptions
        {
            Random = entropy.Runtime.CreateSecureRandom(),
            Trust = new ServerTrust { Verifier = StrictCertificateVerifier.WithSystemRoots(), Store = store, Service = "trace" },
        });
        var certificate = ApplianceCertificate.Create(["localhost"], DateTimeOffset.UtcNow, entropy.Runtime.CreateSecureRandom());
        await using var listener = await network.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), new TlsServerOptions
        {
            Random = entropy.Runtime.CreateSecureRandom(),
            Credentials = new ServerCredentialSet(certificate.Credential),
            ApplicationProtocols = ["h2", "http/1.1"],
        });
        var endpoint = ConduitEndpoint.Parse($"tls://localhost:{listener.LocalEndPoint.Port}");

        var accepting = listener.AcceptAsync().AsTask();
        string clientAddress;
        await using (var client = await network.ConnectAsync(endpoint, ["http/1.1"]))
        {
            clientAddress = client.LocalEndPoint!.ToString()!;
            await using var accepted = await accepting;
        }

        var connect = spans.Single("conduit.connect", "endpoint", endpoint.ToString());
        var accept = spans.Single("conduit.tls.accept", "peer", clientAddress);
        foreach (var span in new[] { connect, accept })
        {
            Assert.Equal("host", span.GetTagItem("transport"));
            Assert.Equal("TLSv1.3", span.GetTagItem("tls.version"));
            Assert.StartsWith("TLS_", (string)span.GetTagItem("tls.cipher")!);
            Assert.Equal("http/1.1", span.GetTagItem("tls.alpn"));
        }

        Assert.Equal("DirectTls", connect.GetTagItem("target.security"));
        Assert.Equal("FirstUse", connect.GetTagItem("trust.basis"));
        Assert.Equal(ActivityStatusCode.Unset, connect.Status);
    }

    [Fact]
    public async Task Failed_connection_is_traced_as_an_error()
    {
        using var spans = new SpanRecorder();
        await using var network = new ConduitNetwork(new ConduitOptions());
        var endpoint = ConduitEndpoint.Parse($"tcp://127.0.0.1:{TestPeers.FreePort()}");

        await Assert.ThrowsAsync<Transports.ConduitException>(() => network.ConnectAsync(endpoint));

        var connect = spans.Single("conduit.connect", "endpoint", endpoint.ToString());
        Assert.Equal(ActivityStatusCode.Error, connect.Status);
        Assert.Contains("refused or timed out", connect.StatusDescription);
    }
}
