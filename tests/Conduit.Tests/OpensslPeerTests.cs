using System.Diagnostics;
using System.Text;
using Apps.Conduit.Endpoints;
using Apps.Conduit.Transports;
using Apps.Conduit.Trust;
using Apps.Tls.Verification;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.Conduit.Tests;

/// <summary>Our conduit client against openssl s_server over host sockets, deciding trust through the pin store.</summary>
public sealed class OpensslPeerTests(EntropyFixture entropy) : IClassFixture<EntropyFixture>, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("conduit-test-");

    public void Dispose() => _directory.Delete(recursive: true);

    private ConduitNetwork Network(ServerTrust? trust) => new(new ConduitOptions
    {
        Random = entropy.Runtime.CreateSecureRandom(),
        Trust = trust,
    });

    private static async Task<string> FetchAsync(ConduitConnection connection)
    {
        var stream = connection.AsStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\n\r\n"));
        await stream.FlushAsync();
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public async Task Tofu_records_a_pin_on_first_connect_and_refuses_a_changed_key_naming_both_fingerprints()
    {
        var first = await TestPeers.SelfSignedAsync(_directory.FullName, "first");
        var second = await TestPeers.SelfSignedAsync(_directory.FullName, "second");
        var port = TestPeers.FreePort();
        using var store = PinStore.Open(Path.Combine(_directory.FullName, "trust.db"));
        var trust = new ServerTrust { Verifier = StrictCertificateVerifier.WithSystemRoots(), Store = store, Service = "conduit-test" };
        await using var network = Network(trust);
        var endpoint = ConduitEndpoint.Parse($"tls://localhost:{port}");

        var server = await TestPeers.StartOpensslServerAsync(port, first.Certificate, first.Key);
        try
        {
            await using var connection = await network.ConnectAsync(endpoint);
            var page = await FetchAsync(connection);

            Assert.Contains("HTTP/1.0 200 ok", page);
            Assert.NotNull(connection.Tls);
            var pins = store.PinsFor("localhost", port);
            Assert.Single(pins);
            Assert.Equal(TestPeers.Fingerprint(first.Certificate), pins[0].Spki.ToString());
        }
        finally
        {
            TestPeers.Stop(server);
        }

        server = await TestPeers.StartOpensslServerAsync(port, second.Certificate, second.Key);
        try
        {
            var refused = await Assert.ThrowsAsync<ConduitTrustException>(() => network.ConnectAsync(endpoint));

            Assert.Equal(RejectReason.KeyChanged, refused.Reason);
            Assert.Contains(TestPeers.Fingerprint(first.Certificate), refused.Message);
            Assert.Contains(TestPeers.Fingerprint(second.Certificate), refused.Message);
            Assert.Single(store.PinsFor("localhost", port));
        }
        finally
        {
            TestPeers.Stop(server);
        }
    }

    [Fact]
    public async Task Ca_verified_chain_is_accepted_without_a_store_and_alpn_is_negotiated()
    {
        var leaf = await TestPeers.CaSignedAsync(_directory.FullName, "leaf");
        var port = TestPeers.FreePort();
        var trust = new ServerTrust { Verifier = new StrictCertificateVerifier(TrustAnchors.FromPem(File.ReadAllText(leaf.Ca))) };
        await using var network = Network(trust);
        var server = await TestPeers.StartOpensslServerAsync(port, leaf.Certificate, leaf.Key, "-alpn", "h2,http/1.1");
        try
        {
            await using var connection = await network.ConnectAsync(ConduitEndpoint.Parse($"tls://localhost:{port}"), ["http/1.1"]);

            Assert.Equal("http/1.1", connection.Tls!.ApplicationProtocol);
            Assert.Contains("HTTP/1.0 200 ok", await FetchAsync(connection));
        }
        finally
        {
            TestPeers.Stop(server);
        }
    }

    [Fact]
    public async Task Self_signed_server_is_refused_under_strict_system_roots()
    {
        var leaf = await TestPeers.SelfSignedAsync(_directory.FullName, "untrusted");
        var port = TestPeers.FreePort();
        await using var network = Network(null);
        var server = await TestPeers.StartOpensslServerAsync(port, leaf.Certificate, leaf.Key);
        try
        {
            var refused = await Assert.ThrowsAsync<ConduitTrustException>(() => network.ConnectAsync(ConduitEndpoint.Parse($"tls://localhost:{port}")));

            Assert.Contains($"localhost:{port}", refused.Message);
        }
        finally
        {
            TestPeers.Stop(server);
        }
    }

    [Fact]
    public async Task Pin_policy_refuses_an_unpinned_server()
    {
        var leaf = await TestPeers.SelfSignedAsync(_directory.FullName, "unpinned");
        var port = TestPeers.FreePort();
        using var store = PinStore.Open(Path.Combine(_directory.FullName, "pin.db"));
        store.SetPolicy(PolicyScope.Service, "appliances", TrustPolicy.Pin);
        await using var network = Network(new ServerTrust { Verifier = StrictCertificateVerifier.WithSystemRoots(), Store = store, Service = "appliances" });
        var server = await TestPeers.StartOpensslServerAsync(port, leaf.Certificate, leaf.Key);
        try
        {
            var refused = await Assert.ThrowsAsync<ConduitTrustException>(() => network.ConnectAsync(ConduitEndpoint.Parse($"tls://localhost:{port}")));

            Assert.Equal(RejectReason.NotPinned, refused.Reason);
            Assert.Empty(store.PinsFor("localhost", port));
        }
        finally
        {
            TestPeers.Stop(server);
        }
    }

    [Fact]
    public async Task Every_connection_is_traced_with_endpoint_transport_and_tls()
    {
        var leaf = await TestPeers.CaSignedAsync(_directory.FullName, "traced");
        var port = TestPeers.FreePort();
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == ConduitTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (stopped) { stopped.Add(a); } },
        };
        ActivitySource.AddActivityListener(listener);
        var trust = new ServerTrust { Verifier = new StrictCertificateVerifier(TrustAnchors.FromPem(File.ReadAllText(leaf.Ca))) };
        await using var network = Network(trust);
        var server = await TestPeers.StartOpensslServerAsync(port, leaf.Certificate, leaf.Key, "-alpn", "h2");
        try
        {
            var endpoint = ConduitEndpoint.Parse($"tls://localhost:{port}");
            await using (await network.ConnectAsync(endpoint, ["h2"]))
            {
            }

            Activity span;
            lock (stopped)
            {
                span = stopped.Single(a => a.OperationName == "conduit.connect" && (string?)a.GetTagItem("endpoint") == endpoint.ToString());
            }

            Assert.Equal("host", span.GetTagItem("transport"));
            Assert.Equal("TLSv1.3", span.GetTagItem("tls.version"));
            Assert.StartsWith("TLS_", (string)span.GetTagItem("tls.cipher")!);
            Assert.Equal("h2", span.GetTagItem("tls.alpn"));
        }
        finally
        {
            TestPeers.Stop(server);
        }
    }
}
