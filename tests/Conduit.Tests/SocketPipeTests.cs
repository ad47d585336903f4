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

    /// <summary>Data segments the peer's kernel has received on this connection (Linux tcp_info.tcpi_data_segs_in).</summary>
    private static int DataSegmentsIn(Socket peer)
    {
        var info = new byte[232];
        var length = peer.GetRawSocketOption((int)SocketOptionLevel.Tcp, 11 /* TCP_INFO */, info);
        Assert.True(length >= 156, $"tcp_info too short ({length} bytes) for tcpi_data_segs_in");
        return BitConverter.ToInt32(info, 152);
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket peer, int count)
    {
        var received = new byte[count];
        for (var at = 0; at < count;)
        {
            var n = await peer.ReceiveAsync(received.AsMemory(at)).AsTask().WaitAsync(Patience);
            Assert.True(n > 0, $"the connection ended after {at} of {count} bytes");
            at += n;
        }

        return received;
    }

    /// <summary>Waits for data from the peer and consumes it; when the read was waiting, what follows runs on the
    /// receive loop's thread, inside its hand-over.</summary>
    private static async Task ConsumeReceivedAsync(ConduitConnection server)
    {
        var result = await server.Input.ReadAsync().ConfigureAwait(false);
        server.Input.AdvanceTo(result.Buffer.End);
    }

    /// <summary>An accepted connection's pipe itself (started, reads inline as the service's are) and its peer socket, for
    /// tests that look at the pipe's own counters.</summary>
    private static async Task<(SocketPipe Pipe, Socket Peer)> ServerPipeAsync()
    {
        using var listening = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listening.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listening.Listen(1);
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await peer.ConnectAsync(listening.LocalEndPoint!);
        var pipe = new SocketPipe(await listening.AcceptAsync(), inlineReads: true);
        pipe.Start();
        return (pipe, peer);
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

    [Fact]
    public async Task Answers_written_while_data_is_handed_over_leave_in_one_segment()
    {
        var (server, peer, listener) = await AcceptAsync();
        await using var _ = listener;
        await using var __ = server;
        // Called before the peer sends, so the read is already waiting and the answer runs inside the hand-over.
        var answering = AnswerAsync();
        async Task AnswerAsync()
        {
            await ConsumeReceivedAsync(server).ConfigureAwait(false);
            // Three flushes on the receive loop's thread, as Kestrel's HTTP/2 writes SETTINGS, WINDOW_UPDATE and SETTINGS ACK.
            foreach (var part in new[] { "one,", "two,", "three" })
            {
                await server.Output.WriteAsync(Encoding.ASCII.GetBytes(part)).ConfigureAwait(false);
            }

            await ConsumeReceivedAsync(server).ConfigureAwait(false); // the application waits: the hand-over ends here
        }

        var before = DataSegmentsIn(peer);
        await peer.SendAsync("?"u8.ToArray());
        var answer = await ReceiveExactlyAsync(peer, "one,two,three".Length);

        Assert.Equal("one,two,three", Encoding.ASCII.GetString(answer));
        Assert.Equal(1, DataSegmentsIn(peer) - before);
        peer.Shutdown(SocketShutdown.Send);
        await answering.WaitAsync(Patience);
        peer.Dispose();
    }

    [Fact]
    public async Task Writes_from_another_thread_during_a_hand_over_are_sent_at_once()
    {
        var (server, peer, listener) = await AcceptAsync();
        await using var _ = listener;
        await using var __ = server;
        var release = new ManualResetEventSlim();
        var answering = AnswerAsync();
        async Task AnswerAsync()
        {
            await ConsumeReceivedAsync(server).ConfigureAwait(false);
            // Still inside the hand-over: another thread writes and flushes; its bytes must not wait for this one.
            await Task.Run(async () => await server.Output.WriteAsync("elsewhere"u8.ToArray())).ConfigureAwait(false);
            Assert.True(release.Wait(Patience), "the peer never saw the other thread's write");
        }

        await peer.SendAsync("?"u8.ToArray());
        var answer = await ReceiveExactlyAsync(peer, "elsewhere".Length);
        release.Set();

        Assert.Equal("elsewhere", Encoding.ASCII.GetString(answer));
        await answering.WaitAsync(Patience);
        peer.Dispose();
    }

    [Fact]
    public async Task A_hand_over_holds_back_at_most_the_defer_limit()
    {
        var (server, peer, listener) = await AcceptAsync();
        await using var _ = listener;
        await using var __ = server;
        var large = new byte[SocketPipe.DeferLimit];
        Random.Shared.NextBytes(large);
        var release = new ManualResetEventSlim();
        var answering = AnswerAsync();
        async Task AnswerAsync()
        {
            await ConsumeReceivedAsync(server).ConfigureAwait(false);
            await server.Output.WriteAsync(large).ConfigureAwait(false);
            // Block the hand-over: the large write must already be on its way.
            Assert.True(release.Wait(Patience), "the large write was held back");
        }

        await peer.SendAsync("?"u8.ToArray());
        var answer = await ReceiveExactlyAsync(peer, large.Length);
        release.Set();

        Assert.Equal(large, answer);
        await answering.WaitAsync(Patience);
        peer.Dispose();
    }

    [Fact]
    public async Task Abort_during_a_hand_over_drops_what_was_held_back()
    {
        var (server, peer, listener) = await AcceptAsync();
        await using var _ = listener;
        await using var __ = server;
        var answering = AnswerAsync();
        async Task AnswerAsync()
        {
            await ConsumeReceivedAsync(server).ConfigureAwait(false);
            await server.Output.WriteAsync("never sent"u8.ToArray()).ConfigureAwait(false); // held back
            server.Abort();
        }

        await peer.SendAsync("?"u8.ToArray());
        var received = new List<byte>();
        var buffer = new byte[64];
        try
        {
            while (true)
            {
                var n = await peer.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(Patience);
                if (n == 0)
                {
                    break;
                }

                received.AddRange(buffer.AsSpan(0, n).ToArray());
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }

        Assert.Empty(received);
        await answering.WaitAsync(Patience);
        peer.Dispose();
    }

    // An HTTP/2 connection's frame writer answers its streams from a pool thread, one flush each: those flushes are
    // gathered into far fewer sends (one each without gathering).
    [Fact]
    public async Task Flushes_from_a_pool_thread_outside_a_hand_over_are_gathered()
    {
        var (pipe, peer) = await ServerPipeAsync();
        using var __ = peer;
        await using var _ = pipe;
        const int flushes = 200;

        await Task.Run(async () =>
        {
            for (var i = 0; i < flushes; i++)
            {
                await pipe.Output.WriteAsync(Encoding.ASCII.GetBytes($"frame {i:D3};"));
            }
        });

        var received = Encoding.ASCII.GetString(await ReceiveExactlyAsync(peer, flushes * "frame 000;".Length));
        Assert.Equal(string.Concat(Enumerable.Range(0, flushes).Select(i => $"frame {i:D3};")), received);
        Assert.True(pipe.SendCalls <= flushes / 4, $"{flushes} flushes took {pipe.SendCalls} sends");
    }

    // A connection's first send answers the peer's first message (a TLS server's flight) and then waits for the peer;
    // one request at a time gains nothing from gathering either. Neither waits for a gathering pass: the first send
    // never, and a send after a pass that found nothing to add (the back-off).
    [Fact]
    public async Task The_first_send_and_one_after_a_pass_that_found_nothing_are_not_gathered()
    {
        var (pipe, peer) = await ServerPipeAsync();
        using var __ = peer;
        await using var _ = pipe;
        async Task<int> PassesAfterSending(string text)
        {
            await Task.Run(async () => await pipe.Output.WriteAsync(Encoding.ASCII.GetBytes(text)));
            Assert.Equal(text, Encoding.ASCII.GetString(await ReceiveExactlyAsync(peer, text.Length)));
            return pipe.GatherPasses;
        }

        Assert.Equal(0, await PassesAfterSending("first;"));
        Assert.Equal(1, await PassesAfterSending("gathered;")); // the pass finds nothing more to add
        Assert.Equal(1, await PassesAfterSending("next;"));
        Assert.Equal(3, pipe.SendCalls);
    }

    [Fact]
    public async Task Flushes_from_many_pool_threads_arrive_whole_and_in_each_writers_order()
    {
        var (server, peer, listener) = await AcceptAsync();
        await using var _ = listener;
        await using var __ = server;
        var gate = new SemaphoreSlim(1, 1);
        const int writers = 8, each = 250;

        var writing = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < each; i++)
            {
                // One message at a time through the pipe's single writer, from whichever pool thread runs this.
                await gate.WaitAsync();
                try
                {
                    await server.Output.WriteAsync(Encoding.ASCII.GetBytes($"{w}:{i:D3};"));
                }
                finally
                {
                    gate.Release();
                }
            }
        })).ToArray();
        var received = Encoding.ASCII.GetString(await ReceiveExactlyAsync(peer, writers * each * "0:000;".Length));
        await Task.WhenAll(writing).WaitAsync(Patience);

        var messages = received.Split(';', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(writers * each, messages.Length);
        for (var w = 0; w < writers; w++)
        {
            Assert.Equal(Enumerable.Range(0, each).Select(i => $"{w}:{i:D3}"), messages.Where(m => m.StartsWith($"{w}:", StringComparison.Ordinal)));
        }

        peer.Dispose();
    }
}
