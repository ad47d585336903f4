using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Apps.Tls.Adapters;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;
using Apps.Tls.Verification;

namespace Apps.Tls.Tests.Adapters;

public class TlsConnectionLimitTests
{
    [Fact]
    public async Task Reader_that_never_consumes_is_stopped_at_a_megabyte()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        var (clientEnd, serverEnd) = MemoryTransport.Pair();
        var serverTask = TlsConnection.AcceptAsync(serverEnd, new TlsServerOptions
        {
            Credentials = new ServerCredentialSet(certificate.Credential), Random = TestRandom.Create(),
        });
        await using var client = await TlsConnection.ConnectAsync(clientEnd, new TlsClientOptions
        {
            ServerName = "localhost", Verifier = new ExpectedKeyVerifier(certificate), Random = TestRandom.Create(),
        });
        await using var server = await serverTask;

        var sending = Task.Run(async () =>
        {
            var chunk = new byte[64 * 1024];
            for (var i = 0; i < 40; i++)
            {
                await client.Output.WriteAsync(chunk);
            }
        });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            while (true)
            {
                var result = await server.Input.ReadAsync();
                server.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        });
        Assert.Contains("unconsumed", error.Message);
    }
}
