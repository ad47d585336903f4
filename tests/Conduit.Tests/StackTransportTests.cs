using System.Text;
using Apps.Conduit.Endpoints;
using Apps.Conduit.Transports;
using Apps.Conduit.Trust;
using Apps.TestSupport;
using Apps.Tls.Verification;
using Apps.TrustStore.Store;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Conduit.Tests;

/// <summary>The same conduit client code over our own stack: a TAP device whose Linux side sits in a namespace
/// the test creates, with openssl s_server running there.</summary>
public sealed class StackTransportTests(EntropyFixture entropy) : IClassFixture<EntropyFixture>, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("conduit-stack-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Theory]
    [InlineData("host", true, null)]
    [InlineData("tap:tap0,ip=10.0.0.2/24,gw=10.0.0.1", false, "10.0.0.2/24 via 10.0.0.1")]
    [InlineData("tap:tap0,ip=10.0.0.2/24", false, "10.0.0.2/24")]
    public void Parses_stack_options(string text, bool isHost, string? address)
    {
        Assert.True(TransportSpec.TryParse(text, out var spec, out var error), error);
        Assert.Equal(isHost, spec.IsHost);
        Assert.Equal(address, spec.Address?.ToString());
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("tap:")]
    [InlineData("tap:name-that-is-far-too-long,ip=dhcp")]
    [InlineData("tap:t0")]
    [InlineData("tap:t0,ip=10.0.0.2")]
    [InlineData("tap:t0,ip=10.0.0.2/24,mtu=9000")]
    public void Refuses_malformed_stack_options_with_usage(string text)
    {
        Assert.False(TransportSpec.TryParse(text, out _, out var error));
        Assert.Contains("--stack", error);
    }

    [Fact]
    public async Task Tls_client_over_our_stack_reaches_openssl_in_a_namespace_and_pins_it()
    {
        var suffix = LinuxNamespace.UniqueSuffix();
        var device = "act" + suffix;
        var leaf = await TestPeers.SelfSignedAsync(_directory.FullName, "stack");
        using var spans = new SpanRecorder();
        Assert.True(TransportSpec.TryParse($"tap:{device},ip=10.78.0.2/24", out var spec, out _));
        using var store = PinStore.Open(Path.Combine(_directory.FullName, "trust.db"));
        await using var network = new ConduitNetwork(new ConduitOptions
        {
            Transport = await StackTransport.OpenAsync(spec, entropy.Runtime.Fortuna.Fill),
            Random = entropy.Runtime.CreateSecureRandom(),
            Trust = new ServerTrust { Verifier = StrictCertificateVerifier.WithSystemRoots(), Store = store, Service = "stack-test" },
        });
        await using var ns = await LinuxNamespace.AdoptAsync("apps-conduit-" + suffix, device, "10.78.0.1/24");
        ns.Start("openssl", "s_server", "-accept", "10.78.0.1:4433", "-cert", leaf.Certificate, "-key", leaf.Key, "-www");
        var endpoint = ConduitEndpoint.Parse("tls://10.78.0.1:4433");

        ConduitConnection? connection = null;
        for (var attempt = 0; connection is null; attempt++)
        {
            try
            {
                connection = await network.ConnectAsync(endpoint);
            }
            catch (ConduitException e) when (attempt < 100 && e is not ConduitTrustException)
            {
                await Task.Delay(100); // s_server is still starting
            }
        }

        await using (connection)
        {
            var stream = connection.AsStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\n\r\n"));
            var page = await new StreamReader(stream).ReadToEndAsync();

            Assert.Contains("HTTP/1.0 200 ok", page);
            Assert.Equal($"tap:{device}", connection.Transport);
            Assert.Equal(TestPeers.Fingerprint(leaf.Certificate), Assert.Single(store.PinsFor("10.78.0.1", 4433)).Spki.ToString());
        }

        var span = spans.Succeeded("conduit.connect", "endpoint", endpoint.ToString());
        Assert.Equal($"tap:{device}", span.GetTagItem("transport"));
        Assert.Equal("10.78.0.1:4433", span.GetTagItem("peer"));
        Assert.Equal("TLSv1.3", span.GetTagItem("tls.version"));
    }

    [Fact]
    public async Task Connect_over_our_stack_honours_the_connect_timeout_and_cancellation()
    {
        var suffix = LinuxNamespace.UniqueSuffix();
        var device = "act" + suffix;
        Assert.True(TransportSpec.TryParse($"tap:{device},ip=10.79.0.2/24", out var spec, out _));
        var time = new FakeTimeProvider();
        await using var network = new ConduitNetwork(new ConduitOptions
        {
            Transport = await StackTransport.OpenAsync(spec, entropy.Runtime.Fortuna.Fill),
            Time = time,
        });
        await using var ns = await LinuxNamespace.AdoptAsync("apps-conduit-" + suffix, device, "10.79.0.1/24");
        // The kernel would answer a SYN to a closed port with RST; dropping it makes the connect hang instead.
        await ns.ExecCheckAsync("nft", "add", "table", "inet", "blackhole");
        await ns.ExecCheckAsync("nft", "add", "chain", "inet", "blackhole", "input", "{ type filter hook input priority 0; policy accept; }");
        await ns.ExecCheckAsync("nft", "add", "rule", "inet", "blackhole", "input", "tcp", "dport", "4433", "drop");
        var endpoint = ConduitEndpoint.Parse("tcp://10.79.0.1:4433");

        var timingOut = network.ConnectAsync(endpoint);
        time.Advance(new ConduitOptions().ConnectTimeout);
        var timedOut = await Assert.ThrowsAsync<ConduitException>(() => timingOut.WaitAsync(TimeSpan.FromSeconds(60)));
        using var cancel = new CancellationTokenSource();
        var cancelled = network.ConnectAsync(endpoint, cancellationToken: cancel.Token);
        await cancel.CancelAsync();

        Assert.Contains($"over tap:{device} within 30s", timedOut.Message);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromSeconds(60)));
    }
}
