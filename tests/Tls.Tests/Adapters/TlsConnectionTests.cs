using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Apps.Tls.Adapters;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;
using Apps.Tls.Verification;

namespace Apps.Tls.Tests.Adapters;

public class TlsConnectionTests
{
    private static readonly TestCertificate Certificate = TestPki.Get(ServerKeyType.EcdsaP256);

    private static TlsClientOptions ClientOptions(IServerCertificateVerifier? verifier = null) => new()
    {
        ServerName = "localhost", Verifier = verifier ?? new ExpectedKeyVerifier(Certificate), Random = TestRandom.Create(),
        ApplicationProtocols = ["echo"],
    };

    private static TlsServerOptions ServerOptions() => new()
    {
        Credentials = new ServerCredentialSet(Certificate.Credential), Random = TestRandom.Create(), ApplicationProtocols = ["echo"],
    };

    private static async Task<(TlsConnection Client, TlsConnection Server)> ConnectPairAsync()
    {
        var (clientEnd, serverEnd) = MemoryTransport.Pair();
        var server = TlsConnection.AcceptAsync(serverEnd, ServerOptions(), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TestPki.Now));
        var client = TlsConnection.ConnectAsync(clientEnd, ClientOptions(), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TestPki.Now));
        return (await client, await server);
    }

    [Fact]
    public async Task Pipes_carry_a_megabyte_each_way_at_once()
    {
        var (client, server) = await ConnectPairAsync();
        Assert.Equal("echo", client.Connection.ApplicationProtocol);
        var data = new byte[1 << 20];
        Random.Shared.NextBytes(data);

        var clientSends = Task.Run(async () =>
        {
            await client.Output.WriteAsync(data);
            await client.Output.CompleteAsync();
        });
        var serverSends = Task.Run(async () =>
        {
            await server.Output.WriteAsync(data);
            await server.Output.CompleteAsync();
        });
        var serverGot = ReadToEndAsync(server.Input);
        var clientGot = ReadToEndAsync(client.Input);
        await Task.WhenAll(clientSends, serverSends);

        Assert.Equal(data, await serverGot);
        Assert.Equal(data, await clientGot);
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Synchronous_complete_returns_while_the_transport_is_full_and_the_data_and_close_notify_follow()
    {
        var (client, server) = await ConnectPairAsync();
        var data = new byte[1 << 20];
        Random.Shared.NextBytes(data);
        data.CopyTo(server.Output.GetSpan(data.Length));
        server.Output.Advance(data.Length);

        // Kestrel calls Complete synchronously; a megabyte is more than the transport pipe takes before it pauses and
        // nobody reads yet, so a Complete that waited for the transport would never return.
        await Task.Run(() => server.Output.Complete()).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(data, await ReadToEndAsync(client.Input));
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Handshake_work_moves_to_the_thread_pool_when_the_transport_delivers_on_its_own_thread()
    {
        // The server's bytes reach the client through a relay on a dedicated thread whose writes run the client's
        // reads inline, as a socket engine's event loop does with inline completions.
        var toServer = new Pipe();
        var fromServer = new Pipe();
        var toClient = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        StartRelay(fromServer.Reader, toClient.Writer);
        var verifier = new ThreadRecordingVerifier(new ExpectedKeyVerifier(Certificate));
        var server = TlsConnection.AcceptAsync(new DuplexEnds(toServer.Reader, fromServer.Writer), ServerOptions(),
            new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TestPki.Now));
        var client = await TlsConnection.ConnectAsync(new DuplexEnds(toClient.Reader, toServer.Writer), ClientOptions(verifier),
            new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TestPki.Now));

        Assert.Equal([true], verifier.OnPoolThread);
        await client.DisposeAsync();
        await (await server).DisposeAsync();
    }

    [Fact]
    public async Task A_server_finishes_its_handshake_on_the_delivering_thread_once_its_signed_flight_is_out()
    {
        // The client's bytes reach the server through the relay: the ClientHello's key exchange and signature move to
        // the pool, the client's Finished (a MAC check) does not, so the handshake completes on the relay's thread.
        var toServer = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var fromClient = new Pipe();
        var toClient = new Pipe();
        var relay = StartRelay(fromClient.Reader, toServer.Writer);
        var server = TlsConnection.AcceptAsync(new DuplexEnds(toServer.Reader, toClient.Writer), ServerOptions(),
            new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TestPki.Now));
        var completedOn = server.ContinueWith(_ => Environment.CurrentManagedThreadId, TaskContinuationOptions.ExecuteSynchronously);
        var client = await TlsConnection.ConnectAsync(new DuplexEnds(toClient.Reader, fromClient.Writer), ClientOptions(),
            new Microsoft.Extensions.Time.Testing.FakeTimeProvider(TestPki.Now));

        Assert.Equal(relay.ManagedThreadId, await completedOn);
        await client.DisposeAsync();
        await (await server).DisposeAsync();
    }

    /// <summary>Copies <paramref name="from"/> into <paramref name="to"/> on a dedicated thread, flushing after each read.</summary>
    private static Thread StartRelay(PipeReader from, PipeWriter to)
    {
        var relay = new Thread(() =>
        {
            while (true)
            {
                var result = from.ReadAsync().AsTask().GetAwaiter().GetResult();
                foreach (var segment in result.Buffer)
                {
                    to.Write(segment.Span);
                }

                from.AdvanceTo(result.Buffer.End);
                to.FlushAsync().AsTask().GetAwaiter().GetResult();
                if (result.IsCompleted)
                {
                    to.Complete();
                    return;
                }
            }
        }) { IsBackground = true };
        relay.Start();
        return relay;
    }

    private sealed record DuplexEnds(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>Notes whether each verification (which runs inside the client's handshake processing) ran on a pool thread.</summary>
    private sealed class ThreadRecordingVerifier(IServerCertificateVerifier inner) : IServerCertificateVerifier
    {
        public List<bool> OnPoolThread { get; } = [];

        public CertificateVerdict Verify(IReadOnlyList<byte[]> peerChain, string serverName, DateTimeOffset now)
        {
            OnPoolThread.Add(Thread.CurrentThread.IsThreadPoolThread);
            return inner.Verify(peerChain, serverName, now);
        }
    }

    [Fact]
    public async Task Half_close_delivers_the_answer_after_the_request_is_complete()
    {
        var (client, server) = await ConnectPairAsync();
        await client.Output.WriteAsync("request"u8.ToArray());
        await client.Output.CompleteAsync();

        var request = await ReadToEndAsync(server.Input);
        await server.Output.WriteAsync(request.Reverse().ToArray());
        await server.Output.CompleteAsync();

        Assert.Equal("tseuqer"u8.ToArray(), await ReadToEndAsync(client.Input));
        await client.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Key_update_mid_stream_keeps_both_directions_working()
    {
        var (client, server) = await ConnectPairAsync();
        await using var clientStream = client.AsStream();
        await using var serverStream = server.AsStream();
        var buffer = new byte[16];

        await clientStream.WriteAsync("one"u8.ToArray());
        Assert.Equal(3, await serverStream.ReadAsync(buffer));
        await client.RequestKeyUpdateAsync();
        await server.RequestKeyUpdateAsync();
        await clientStream.WriteAsync("two"u8.ToArray());
        await serverStream.WriteAsync("three"u8.ToArray());

        Assert.Equal("two"u8.ToArray(), buffer[..await serverStream.ReadAsync(buffer)]);
        Assert.Equal("three"u8.ToArray(), buffer[..await clientStream.ReadAsync(buffer)]);
    }

    [Fact]
    public async Task Stream_view_reads_zero_after_close_notify()
    {
        var (client, server) = await ConnectPairAsync();
        await using var clientStream = client.AsStream();
        await using var serverStream = server.AsStream();

        await clientStream.WriteAsync("ping"u8.ToArray());
        var buffer = new byte[16];
        var read = await serverStream.ReadAsync(buffer);
        Assert.Equal("ping"u8.ToArray(), buffer[..read]);

        await serverStream.DisposeAsync();
        Assert.Equal(0, await clientStream.ReadAsync(buffer));
    }

    [Fact]
    public async Task Stream_transport_over_loopback_socket_works()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accept = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            await using var server = await TlsConnection.AcceptAsync(socket.GetStream(), ServerOptions());
            await using var stream = server.AsStream();
            var buffer = new byte[5];
            await stream.ReadExactlyAsync(buffer);
            await stream.WriteAsync(buffer);
            await stream.FlushAsync();
        });

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var client = await TlsConnection.ConnectAsync(tcp.GetStream(), ClientOptions());
        await using var clientStream = client.AsStream();
        await clientStream.WriteAsync("hello"u8.ToArray());
        var echo = new byte[5];
        await clientStream.ReadExactlyAsync(echo);
        Assert.Equal("hello"u8.ToArray(), echo);
        await accept;
    }

    [Fact]
    public async Task Refused_certificate_fails_both_handshakes_with_typed_errors()
    {
        var (clientEnd, serverEnd) = MemoryTransport.Pair();
        var server = TlsConnection.AcceptAsync(serverEnd, ServerOptions());
        var client = TlsConnection.ConnectAsync(clientEnd, ClientOptions(new FixedVerdictVerifier(VerificationFailure.Expired)));

        var clientError = await Assert.ThrowsAsync<TlsCertificateRejectedException>(() => client);
        Assert.Equal(TlsAlertDescription.CertificateExpired, clientError.Alert!.Value.Description);
        var serverError = await Assert.ThrowsAsync<TlsException>(() => server);
        Assert.True(serverError.AlertFromPeer);
        Assert.Equal(TlsAlertDescription.CertificateExpired, serverError.Alert!.Value.Description);
    }

    [Fact]
    public async Task Handshake_can_be_cancelled_when_the_peer_is_silent()
    {
        var (clientEnd, _) = MemoryTransport.Pair();
        using var cancel = new CancellationTokenSource();
        var client = TlsConnection.ConnectAsync(clientEnd, ClientOptions(), cancellationToken: cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client);
    }

    [Fact]
    public async Task Transport_closed_without_close_notify_is_reported_as_truncation()
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var (clientEnd, serverEnd) = (new Duplex(toClient.Reader, toServer.Writer), new Duplex(toServer.Reader, toClient.Writer));
        var server = TlsConnection.AcceptAsync(serverEnd, ServerOptions());
        await using var client = await TlsConnection.ConnectAsync(clientEnd, ClientOptions());
        await server;

        await toClient.Writer.CompleteAsync();

        var error = await Assert.ThrowsAsync<TlsException>(async () => await ReadToEndAsync(client.Input));
        Assert.Equal(TlsFault.Peer, error.Fault);
        Assert.Contains("close_notify", error.Message);
    }

    private static async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var output = new MemoryStream();
        while (true)
        {
            var result = await reader.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                output.Write(segment.Span);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return output.ToArray();
            }
        }
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
