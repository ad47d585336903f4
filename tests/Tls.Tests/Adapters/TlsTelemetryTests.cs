using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Apps.Tls.Adapters;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;
using Apps.Tls.Verification;

namespace Apps.Tls.Tests.Adapters;

public class TlsTelemetryTests
{
    [Fact]
    public async Task Handshake_is_traced_as_an_apps_tls_activity()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        var stopped = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "Apps.Tls",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) =>
                System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);

        var (clientEnd, serverEnd) = MemoryTransport.Pair();
        var server = TlsConnection.AcceptAsync(serverEnd, new TlsServerOptions
        {
            Credentials = new ServerCredentialSet(certificate.Credential), Random = TestRandom.Create(),
        });
        await using var client = await TlsConnection.ConnectAsync(clientEnd, new TlsClientOptions
        {
            ServerName = "localhost", Verifier = new ExpectedKeyVerifier(certificate), Random = TestRandom.Create(),
        });
        await using var accepted = await server;

        // Other tests may run at the same time, so look for ours among all spans.
        Assert.Contains(stopped, a => a.OperationName == "tls.handshake.client" && (string?)a.GetTagItem("tls.version") == "1.3"
            && (string?)a.GetTagItem("tls.cipher") == "TLS_AES_128_GCM_SHA256" && (string?)a.GetTagItem("tls.sni") == "localhost");
        Assert.Contains(stopped, a => a.OperationName == "tls.handshake.server");
    }
}
