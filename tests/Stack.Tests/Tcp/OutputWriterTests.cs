using System.IO.Pipelines;
using System.Security.Cryptography;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// <see cref="TcpConnection.Output"/> writes straight into the core's send buffer: every way a
/// <see cref="PipeWriter"/> is used must still deliver the bytes in order, wait for room without losing any,
/// and end as the application asked. Two whole stacks on the switch, virtual time, a 16 KiB send buffer so that
/// it fills, wraps and overflows often.
/// </summary>
public class OutputWriterTests
{
    private const int SendBuffer = 16 * 1024;
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    private static async Task<(TcpConnection Client, TcpConnection Server)> PairAsync(SimulatedNetwork net)
    {
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24");
        var settings = new TcpSettings { MinRto = TimeSpan.FromMilliseconds(200), SendBufferSize = SendBuffer, ReceiveBufferSize = 64 * 1024 };
        var ra = new Random(1);
        var rb = new Random(2);
        await a.UseTcpAsync(settings, bytes => ra.NextBytes(bytes));
        await b.UseTcpAsync(settings, bytes => rb.NextBytes(bytes));
        var listener = await b.ListenTcpAsync(80);
        var accept = listener.AcceptAsync().AsTask();
        var client = await net.RunAsync(a.ConnectTcpAsync(B, 80));
        return (client, await net.RunAsync(accept));
    }

    [Fact]
    public async Task Spans_asked_for_larger_than_the_free_room_overflow_and_still_arrive_in_order()
    {
        using var net = new SimulatedNetwork();
        var (client, server) = await PairAsync(net);
        var reading = PipeReading.ReadToEndAsync(server.Input);
        var expected = new MemoryStream();
        var output = client.Output;

        var writing = Task.Run(async () =>
        {
            // Small pieces into the ring, then one larger than the whole buffer (overflow), then small pieces
            // behind it (overflow too, to keep the order), several times over, flushing now and then.
            for (int round = 0; round < 12; round++)
            {
                foreach (int size in new[] { 700, 3000, SendBuffer + 5000, 100, 9000 })
                {
                    var piece = TcpHarness.Bytes(size, round * 10 + size);
                    piece.CopyTo(output.GetSpan(size));
                    output.Advance(size);
                    lock (expected) expected.Write(piece);
                }
                if (round % 3 == 2) await output.FlushAsync();
            }
            await output.CompleteAsync();
        });

        var received = await net.RunAsync(reading, step: TimeSpan.FromMilliseconds(5));
        await writing;
        Assert.Equal(SHA256.HashData(expected.ToArray()), SHA256.HashData(received));
    }

    [Fact]
    public async Task One_write_many_times_the_buffer_waits_for_room_and_arrives_whole()
    {
        using var net = new SimulatedNetwork();
        var (client, server) = await PairAsync(net);
        var data = TcpHarness.Bytes(40 * SendBuffer + 123, 5);

        var writing = Task.Run(async () =>
        {
            await client.Output.WriteAsync(data);
            await client.Output.CompleteAsync();
        });
        var received = await net.RunAsync(PipeReading.ReadToEndAsync(server.Input), step: TimeSpan.FromMilliseconds(5));

        await writing;
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
    }

    [Fact]
    public async Task Completing_with_bytes_still_in_overflow_sends_them_before_the_fin()
    {
        using var net = new SimulatedNetwork();
        var (client, server) = await PairAsync(net);
        var data = TcpHarness.Bytes(3 * SendBuffer, 6);

        // Written through GetSpan (one span larger than the buffer: overflow), never flushed, completed at once:
        // the loop moves the overflow in as room frees, then closes.
        data.CopyTo(client.Output.GetSpan(data.Length));
        client.Output.Advance(data.Length);
        client.Output.Complete();

        var received = await net.RunAsync(PipeReading.ReadToEndAsync(server.Input), step: TimeSpan.FromMilliseconds(5));
        Assert.Equal(data, received);
    }

    [Fact]
    public async Task A_writer_waiting_for_room_is_released_by_cancel_pending_flush()
    {
        using var net = new SimulatedNetwork();
        var (client, _) = await PairAsync(net); // the server never reads: the window and the buffer fill
        var data = TcpHarness.Bytes(64 * SendBuffer, 7);

        var writing = client.Output.WriteAsync(data).AsTask();
        await net.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.False(writing.IsCompleted, "the writer should wait for room while nobody reads");

        client.Output.CancelPendingFlush();
        var result = await writing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsCanceled);
    }

    [Fact]
    public async Task Writing_after_completing_is_refused()
    {
        using var net = new SimulatedNetwork();
        var (client, _) = await PairAsync(net);
        await client.Output.CompleteAsync();

        Assert.Throws<InvalidOperationException>(() => client.Output.GetSpan(10));
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.Output.WriteAsync(new byte[10]).AsTask());
    }

    [Fact]
    public async Task A_writer_waiting_for_room_gets_the_reset_when_the_connection_is_aborted()
    {
        using var net = new SimulatedNetwork();
        var (client, _) = await PairAsync(net);

        var writing = client.Output.WriteAsync(TcpHarness.Bytes(64 * SendBuffer, 8)).AsTask();
        await net.AdvanceAsync(TimeSpan.FromSeconds(1));
        client.Abort();
        await net.AdvanceAsync(TimeSpan.FromMilliseconds(100));

        var e = await Assert.ThrowsAsync<TcpConnectionException>(() => writing.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(TcpError.Aborted, e.Error);
    }
}
