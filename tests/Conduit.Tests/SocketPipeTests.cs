using System.Net;
using System.Net.Sockets;
using System.Text;
using Apps.Conduit.Transports;
using Microsoft.AspNetCore.Connections;

namespace Apps.Conduit.Tests;

/// <summary>The host-socket pumps under an accepted connection, against a plain Linux socket as the peer.</summary>
public sealed class SocketPipeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static async Task<(ConduitConnection Server, Socket Peer, IConduitListener Listener)> AcceptAsync()
    {
        var transport = new HostSocketTransport();
        var listener = await transport.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptAsync().AsTask();
        await peer.ConnectAsync(listener.LocalEndPoint);
        var server = await accepting.WaitAsync(Patience) ?? throw new InvalidOperationException("listener stopped");
        return (server, peer, listener);
    }

    private static void Reset(Socket peer)
    {
        peer.LingerState = new LingerOption(true, 0);
        peer.Close(); // RST, not FIN
    }

    [Fact]
    public async Task Peer_reset_ends_input_with_connection_reset_and_cancels_closed()
    {
        var (server, peer, listener) = await AcceptAsync();
        await using var _ = listener;
        await using var __ = server;
        var closed = new TaskCompletionSource();
        server.Closed.Register(() => closed.TrySetResult());

        Reset(peer);

        await Assert.ThrowsAsync<ConnectionResetException>(async () =>
        {
            while (true)
            {
                var result = await server.Input.ReadAsync().AsTask().WaitAsync(Patience);
                server.Input.AdvanceTo(result.Buffer.End);
                Assert.False(result.IsCompleted, "a reset must not look like a clean FIN");
            }
        });
        await closed.Task.WaitAsync(Patience);
    }

    [Fact]
    public async Task Writing_to_a_peer_that_reset_cancels_closed_and_never_throws_at_the_writer()
    {
        var (server, peer, listener) = await AcceptAsync();
        await using var _ = listener;
        await using var __ = server;
        var closed = new TaskCompletionSource();
        server.Closed.Register(() => closed.TrySetResult());
        Reset(peer);

        // The first sends may still be accepted by the kernel; keep writing until the transport notices the reset.
        var chunk = new byte[64 * 1024];
        for (var i = 0; i < 1000 && !closed.Task.IsCompleted; i++)
        {
            await server.Output.WriteAsync(chunk).AsTask().WaitAsync(Patience);
            await Task.Yield();
        }

        await closed.Task.WaitAsync(Patience);
        await server.Output.CompleteAsync();
    }

    [Fact]
    public async Task Data_read_inline_can_be_answered_inline_and_fin_travels_both_ways()
    {
        var (server, peer, listener) = await AcceptAsync();
        await using var _ = listener;
        await using var __ = server;

        var echo = Task.Run(async () =>
        {
            while (true)
            {
                var result = await server.Input.ReadAsync();
                foreach (var segment in result.Buffer)
                {
                    await server.Output.WriteAsync(segment); // runs on the receive loop's thread
                }

                server.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    await server.Output.CompleteAsync();
                    return;
                }
            }
        });

        var sent = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("inline echo ", 50_000)));
        var sending = Task.Run(async () =>
        {
            await peer.SendAsync(sent);
            peer.Shutdown(SocketShutdown.Send);
        });
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var n = await peer.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(Patience);
            if (n == 0)
            {
                break;
            }

            received.Write(buffer, 0, n);
        }

        await sending.WaitAsync(Patience);
        await echo.WaitAsync(Patience);
        Assert.Equal(sent, received.ToArray());
        peer.Dispose();
    }
}
