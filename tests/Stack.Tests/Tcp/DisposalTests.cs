using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// Disposing a stack, aborting a connection or closing a listener ends every pending TCP call at once
/// with a typed exception: nothing is left hanging. (The 30 s real-time bounds only turn a hang into
/// a failure; virtual time never moves while waiting on them.)
/// </summary>
public class DisposalTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    private static async Task<(NetworkStack A, NetworkStack B, TcpListener Listener, TcpConnection Client, TcpConnection Server)> ConnectedAsync(SimulatedNetwork net)
    {
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24");
        var listener = await b.ListenTcpAsync(8080);
        var accept = listener.AcceptAsync().AsTask();
        var client = await net.RunAsync(a.ConnectTcpAsync(B, 8080));
        return (a, b, listener, client, await net.RunAsync(accept));
    }

    // Writes until the pipe pushes back (nobody reads on the other side), then keeps writing.
    private static Task WriteForeverAsync(TcpConnection connection) => Task.Run(async () =>
    {
        var chunk = new byte[64 * 1024];
        while (true) await connection.Output.WriteAsync(chunk);
    });

    [Fact]
    public async Task Disposing_the_stack_fails_a_pending_read()
    {
        using var net = new SimulatedNetwork();
        var (_, b, _, _, server) = await ConnectedAsync(net);
        var read = server.Input.ReadAsync().AsTask();
        await net.SettleAsync();
        Assert.False(read.IsCompleted);

        b.Dispose();
        var e = await Assert.ThrowsAsync<ObjectDisposedException>(() => read.WaitAsync(HangGuard));
        Assert.Contains("network stack was disposed", e.Message);
    }

    [Fact]
    public async Task Disposing_the_stack_fails_a_writer_held_back_by_flow_control()
    {
        using var net = new SimulatedNetwork();
        var (a, _, _, client, _) = await ConnectedAsync(net);
        var write = WriteForeverAsync(client);
        await net.AdvanceAsync(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(100));
        Assert.False(write.IsCompleted);

        a.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => write.WaitAsync(HangGuard));
    }

    [Fact]
    public async Task Disposing_the_stack_fails_a_pending_connect_and_accept()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        net.AddStack("10.0.0.2/24");
        await using var listener = await a.ListenTcpAsync(9000);
        var accept = listener.AcceptAsync().AsTask();
        var connect = a.ConnectTcpAsync(Ipv4Address.Parse("10.0.0.99"), 80); // nobody answers ARP
        await net.AdvanceAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(100));
        Assert.False(connect.IsCompleted || accept.IsCompleted);

        a.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => connect.WaitAsync(HangGuard));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => accept.WaitAsync(HangGuard));
    }

    [Fact]
    public async Task Tcp_calls_on_a_disposed_stack_fail_at_once()
    {
        using var net = new SimulatedNetwork();
        var (a, _, _, client, _) = await ConnectedAsync(net);
        a.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => a.ConnectTcpAsync(B, 8080).WaitAsync(HangGuard));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => a.ListenTcpAsync(9001).WaitAsync(HangGuard));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.Input.ReadAsync().AsTask().WaitAsync(HangGuard));
        // A write is buffered by the pipe, then the sender finds the stack gone: the next flush fails.
        await Assert.ThrowsAsync<ObjectDisposedException>(async () =>
        {
            for (int i = 0; i < 3000; i++)
            {
                await client.Output.WriteAsync(new byte[16]).AsTask().WaitAsync(HangGuard);
                await Task.Delay(10);
            }
        });
    }

    [Fact]
    public async Task Abort_fails_the_pending_read_and_the_held_back_writer_of_that_connection()
    {
        using var net = new SimulatedNetwork();
        var (_, _, _, client, server) = await ConnectedAsync(net);
        var read = client.Input.ReadAsync().AsTask();
        var write = WriteForeverAsync(client);
        await net.AdvanceAsync(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(100));
        Assert.False(read.IsCompleted || write.IsCompleted);

        client.Abort();
        await net.SettleAsync();
        var readError = await Assert.ThrowsAsync<TcpConnectionException>(() => read.WaitAsync(HangGuard));
        Assert.Equal(TcpError.Aborted, readError.Error);
        var writeError = await Assert.ThrowsAsync<TcpConnectionException>(() => write.WaitAsync(HangGuard));
        Assert.Equal(TcpError.Aborted, writeError.Error);
        // The peer was reset.
        var peerError = await Assert.ThrowsAsync<TcpConnectionException>(() => net.RunAsync(ReadToEndAsync(server)));
        Assert.Equal(TcpError.ConnectionReset, peerError.Error);
    }

    [Fact]
    public async Task Cancelling_a_connect_ends_it()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        using var cancel = new CancellationTokenSource();
        var connect = a.ConnectTcpAsync(Ipv4Address.Parse("10.0.0.99"), 80, cancellationToken: cancel.Token);
        await net.AdvanceAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(100));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connect.WaitAsync(HangGuard));
    }

    [Fact]
    public async Task Closing_a_listener_fails_a_pending_accept()
    {
        using var net = new SimulatedNetwork();
        var b = net.AddStack("10.0.0.2/24");
        var listener = await b.ListenTcpAsync(8080);
        var accept = listener.AcceptAsync().AsTask();
        await net.SettleAsync();
        listener.Dispose();
        var e = await Assert.ThrowsAsync<ObjectDisposedException>(() => accept.WaitAsync(HangGuard));
        Assert.Contains("8080", e.Message);
    }

    [Fact]
    public async Task A_disposed_connection_discards_what_the_peer_still_sends_instead_of_stalling_it()
    {
        using var net = new SimulatedNetwork();
        var (_, _, _, client, server) = await ConnectedAsync(net);
        await server.DisposeAsync(); // FIN; the application reads no more
        await net.SettleAsync();

        var data = new byte[2 << 20]; // more than the receive buffer and both pipes hold
        var write = Task.Run(async () =>
        {
            await client.Output.WriteAsync(data);
            await client.Output.CompleteAsync();
        });
        await net.DriveAsync(write, TimeSpan.FromMinutes(1)); // acknowledged and dropped, never a closed window
        Assert.Equal(0L, await net.RunAsync(ReadToEndAsync(client))); // the server's FIN, then ours: a clean close
    }

    private static async Task<long> ReadToEndAsync(TcpConnection connection)
    {
        long total = 0;
        while (true)
        {
            var result = await connection.Input.ReadAsync();
            total += result.Buffer.Length;
            connection.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) return total;
        }
    }
}
