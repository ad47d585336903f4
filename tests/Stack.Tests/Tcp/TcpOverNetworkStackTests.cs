using System.IO.Pipelines;
using System.Security.Cryptography;
using Apps.Stack.Netif;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// TCP through whole <see cref="NetworkStack"/>s (Ethernet, ARP, IPv4) on the in-memory switch, used
/// through the application API: pipes, streams, listeners; virtual time throughout.
/// </summary>
public class TcpOverNetworkStackTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    private static async Task<(NetworkStack A, NetworkStack B)> Stacks(SimulatedNetwork net, LinkImpairments? impairments = null, TcpSettings? settings = null)
    {
        var a = net.AddStack("10.0.0.1/24", impairments);
        var b = net.AddStack("10.0.0.2/24", impairments);
        settings ??= new TcpSettings { MinRto = TimeSpan.FromMilliseconds(200) };
        var ra = new Random(1);
        var rb = new Random(2);
        await a.UseTcpAsync(settings, bytes => ra.NextBytes(bytes));
        await b.UseTcpAsync(settings, bytes => rb.NextBytes(bytes));
        return (a, b);
    }

    /// <summary>Connects <paramref name="from"/> to <paramref name="listener"/>'s port on B and accepts: a connected pair.</summary>
    private static async Task<(TcpConnection Client, TcpConnection Server)> ConnectAsync(SimulatedNetwork net, NetworkStack from, TcpListener listener, ushort port)
    {
        var accept = listener.AcceptAsync().AsTask();
        var client = await net.RunAsync(from.ConnectTcpAsync(B, port));
        return (client, await net.RunAsync(accept));
    }

    [Fact]
    public async Task Client_and_server_exchange_data_and_close_gracefully()
    {
        using var net = new SimulatedNetwork();
        var (a, b) = await Stacks(net);
        await using var listener = await b.ListenTcpAsync(8080);
        var (client, server) = await ConnectAsync(net, a, listener, 8080);
        Assert.Equal(8080, client.RemoteEndPoint.Port);
        Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);

        await client.Output.WriteAsync("hello, stack"u8.ToArray());
        await client.Output.CompleteAsync();
        var request = await net.RunAsync(PipeReading.ReadToEndAsync(server.Input));
        Assert.Equal("hello, stack"u8.ToArray(), request);

        await server.Output.WriteAsync("HELLO"u8.ToArray());
        await server.Output.CompleteAsync();
        var reply = await net.RunAsync(PipeReading.ReadToEndAsync(client.Input));
        Assert.Equal("HELLO"u8.ToArray(), reply);
        Assert.Equal(0, a.TcpCounters()!.ResetsSent + b.TcpCounters()!.ResetsSent);
    }

    [Fact]
    public async Task Connect_to_a_closed_port_is_refused()
    {
        using var net = new SimulatedNetwork();
        var (a, _) = await Stacks(net);
        var e = await Assert.ThrowsAsync<TcpConnectionException>(() => net.RunAsync(a.ConnectTcpAsync(B, 9)));
        Assert.Equal(TcpError.ConnectionRefused, e.Error);
        Assert.Contains("10.0.0.2:9", e.Message);
    }

    [Fact]
    public async Task Connect_to_an_absent_host_times_out()
    {
        using var net = new SimulatedNetwork();
        var (a, _) = await Stacks(net);
        var e = await Assert.ThrowsAsync<TcpConnectionException>(() =>
            net.RunAsync(a.ConnectTcpAsync(Ipv4Address.Parse("10.0.0.99"), 80, TimeSpan.FromSeconds(5)), step: TimeSpan.FromMilliseconds(50)));
        Assert.Equal(TcpError.TimedOut, e.Error);
        // ARP gave up on the SYN's next hop and reported host unreachable: the error says so.
        Assert.Equal((byte)1, e.UnreachableCode);
        Assert.Contains("host is unreachable", e.Message);
    }

    [Fact]
    public async Task Megabyte_crosses_a_lossy_reordering_duplicating_link_intact()
    {
        using var net = new SimulatedNetwork(seed: 5);
        var impaired = new LinkImpairments
        {
            Loss = 0.05, Duplication = 0.02, Reordering = 0.05, Delay = TimeSpan.FromMilliseconds(1),
        };
        var (a, b) = await Stacks(net, impaired);
        await using var listener = await b.ListenTcpAsync(8080);
        var accept = listener.AcceptAsync().AsTask();
        var client = await net.RunAsync(a.ConnectTcpAsync(B, 8080), step: TimeSpan.FromMilliseconds(5), limit: TimeSpan.FromMinutes(5));
        var server = await net.RunAsync(accept);

        var data = new byte[1 << 20];
        new Random(9).NextBytes(data);
        var write = Task.Run(async () =>
        {
            await client.Output.WriteAsync(data);
            await client.Output.CompleteAsync();
        });
        var reading = PipeReading.ReadToEndAsync(server.Input);
        await net.DriveAsync(reading, limit: TimeSpan.FromMinutes(10));
        var received = await reading;
        await write;
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
        Assert.True(a.TcpCounters()!.Retransmissions > 0);
    }

    [Fact]
    public async Task Keep_alive_notices_a_peer_that_vanished_and_fails_the_pending_read()
    {
        using var net = new SimulatedNetwork();
        var settings = new TcpSettings
        {
            KeepAliveIdle = TimeSpan.FromMinutes(10), KeepAliveInterval = TimeSpan.FromSeconds(30), KeepAliveProbes = 3,
        };
        var (a, b) = await Stacks(net, settings: settings);
        await using var listener = await b.ListenTcpAsync(8080);
        var (client, _) = await ConnectAsync(net, a, listener, 8080);
        var read = PipeReading.ReadToEndAsync(client.Input);

        await net.AdvanceAsync(TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(1)); // idle, but the peer answers probes
        Assert.False(read.IsCompleted);
        b.Dispose(); // the peer is gone without a word (no FIN, no RST)

        var e = await Assert.ThrowsAsync<TcpConnectionException>(() => net.DriveAsync(read, TimeSpan.FromHours(1)));
        Assert.Equal(TcpError.TimedOut, e.Error);
    }

    [Fact]
    public async Task Stream_adapter_reads_and_writes()
    {
        using var net = new SimulatedNetwork();
        var (a, b) = await Stacks(net);
        await using var listener = await b.ListenTcpAsync(7);
        var (clientConnection, serverConnection) = await ConnectAsync(net, a, listener, 7);
        var client = clientConnection.AsStream();
        var server = serverConnection.AsStream();

        await client.WriteAsync("ping"u8.ToArray());
        await client.FlushAsync();
        var buffer = new byte[16];
        int n = await net.RunAsync(server.ReadAsync(buffer).AsTask());
        Assert.Equal("ping"u8.ToArray(), buffer[..n]);
        await server.DisposeAsync();
        Assert.Equal(0, await net.RunAsync(client.ReadAsync(buffer).AsTask()));
    }

    [Fact]
    public async Task Abort_resets_the_peer()
    {
        using var net = new SimulatedNetwork();
        var (a, b) = await Stacks(net);
        await using var listener = await b.ListenTcpAsync(8080);
        var (client, server) = await ConnectAsync(net, a, listener, 8080);

        client.Abort();
        var e = await Assert.ThrowsAsync<TcpConnectionException>(() => net.RunAsync(PipeReading.ReadToEndAsync(server.Input)));
        Assert.Equal(TcpError.ConnectionReset, e.Error);
    }

    [Fact]
    public async Task Output_completed_with_an_error_resets_instead_of_ending_the_stream_cleanly()
    {
        using var net = new SimulatedNetwork();
        var (a, b) = await Stacks(net);
        await using var listener = await b.ListenTcpAsync(8080);
        var (client, server) = await ConnectAsync(net, a, listener, 8080);

        await client.Output.WriteAsync("partial response"u8.ToArray());
        await client.Output.CompleteAsync(new InvalidOperationException("the application failed mid-response"));
        var e = await Assert.ThrowsAsync<TcpConnectionException>(() => net.RunAsync(PipeReading.ReadToEndAsync(server.Input)));

        // A FIN would tell the peer the response was whole; RFC 9293 §3.10.7.1 ABORT says it was not.
        Assert.Equal(TcpError.ConnectionReset, e.Error);
    }

    [Fact]
    public async Task Output_failed_before_the_loop_read_it_resets_too()
    {
        using var net = new SimulatedNetwork();
        var (a, b) = await Stacks(net);
        await using var listener = await b.ListenTcpAsync(8080);
        var (client, server) = await ConnectAsync(net, a, listener, 8080);

        // Write, flush and fail in one go from this thread: the loop may meet the failure in TryRead.
        client.Output.GetSpan(100_000)[..100_000].Clear();
        client.Output.Advance(100_000);
        _ = client.Output.FlushAsync();
        client.Output.Complete(new InvalidOperationException("failed at once"));
        var e = await Assert.ThrowsAsync<TcpConnectionException>(() => net.RunAsync(PipeReading.ReadToEndAsync(server.Input)));

        Assert.Equal(TcpError.ConnectionReset, e.Error);
    }

    [Fact]
    public async Task Writes_after_the_peer_reset_fail_with_the_reset()
    {
        using var net = new SimulatedNetwork();
        var (a, b) = await Stacks(net);
        await using var listener = await b.ListenTcpAsync(8080);
        var (client, server) = await ConnectAsync(net, a, listener, 8080);

        server.Abort();
        await Assert.ThrowsAsync<TcpConnectionException>(() => net.RunAsync(PipeReading.ReadToEndAsync(client.Input)));
        var e = await Assert.ThrowsAsync<TcpConnectionException>(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await net.RunAsync(client.Output.WriteAsync(new byte[1000]).AsTask());
            }
        });

        Assert.Equal(TcpError.ConnectionReset, e.Error);
    }

    [Fact]
    public async Task Second_listener_on_a_port_is_refused_and_disposed_listener_stops_accepting()
    {
        using var net = new SimulatedNetwork();
        var (_, b) = await Stacks(net);
        var listener = await b.ListenTcpAsync(8080);
        await Assert.ThrowsAsync<InvalidOperationException>(() => b.ListenTcpAsync(8080));
        listener.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => listener.AcceptAsync().AsTask());
    }

    [Fact]
    public async Task Tcp_counters_are_published_on_the_apps_stack_meter()
    {
        var measured = new Dictionary<string, long>();
        using var meterListener = new System.Diagnostics.Metrics.MeterListener();
        meterListener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == StackCounters.MeterName && instrument.Name.StartsWith("apps.stack.tcp.", StringComparison.Ordinal))
                l.EnableMeasurementEvents(instrument);
        };
        meterListener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            lock (measured)
            {
                string key = instrument.Name + "/" + tags[0].Value;
                measured[key] = measured.GetValueOrDefault(key) + value;
            }
        });
        meterListener.Start();

        using var net = new SimulatedNetwork();
        var (a, _) = await Stacks(net);
        await Assert.ThrowsAsync<TcpConnectionException>(() => net.RunAsync(a.ConnectTcpAsync(B, 9)));
        meterListener.RecordObservableInstruments();

        Assert.True(measured["apps.stack.tcp.connections/opened"] >= 1);
        Assert.True(measured["apps.stack.tcp.resets/in"] >= 1);
        Assert.True(measured["apps.stack.tcp.segments/out"] >= 1);
    }

    [Fact]
    public async Task A_reader_that_stops_reading_closes_the_window_and_holds_the_writer_back()
    {
        using var net = new SimulatedNetwork();
        var (a, b) = await Stacks(net);
        await using var listener = await b.ListenTcpAsync(8080);
        var (client, server) = await ConnectAsync(net, a, listener, 8080);

        var data = new byte[3 << 20]; // more than both pipes and both core buffers hold
        new Random(4).NextBytes(data);
        var write = Task.Run(async () =>
        {
            await client.Output.WriteAsync(data);
            await client.Output.CompleteAsync();
        });
        await net.AdvanceAsync(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(50));

        Assert.False(write.IsCompleted, "the writer should be held back while nobody reads");
        var received = await net.RunAsync(PipeReading.ReadToEndAsync(server.Input), step: TimeSpan.FromMilliseconds(10));
        await write;
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
    }

    [Fact]
    public async Task A_stack_connects_to_its_own_listener_over_loopback()
    {
        using var net = new SimulatedNetwork();
        var (a, _) = await Stacks(net);
        await using var listener = await a.ListenTcpAsync(8080);
        var accept = listener.AcceptAsync().AsTask();
        var client = await net.RunAsync(a.ConnectTcpAsync(A, 8080));
        var server = await net.RunAsync(accept);

        await client.Output.WriteAsync("to myself"u8.ToArray());
        await client.Output.CompleteAsync();
        Assert.Equal("to myself"u8.ToArray(), await net.RunAsync(PipeReading.ReadToEndAsync(server.Input)));
    }

    private sealed class ListLoggerFactory : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        public List<(string Category, int EventId, string Message)> Entries { get; } = [];
        private string _category = "";
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName)
        {
            _category = categoryName;
            return this;
        }
        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider) { }
        public void Dispose() { }
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries) Entries.Add((_category, eventId.Id, formatter(state, exception)));
        }
    }

    [Fact]
    public async Task Connection_outcomes_are_logged()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        net.AddStack("10.0.0.2/24");
        var log = new ListLoggerFactory();
        await a.UseTcpAsync(new TcpSettings(), loggerFactory: log);
        await Assert.ThrowsAsync<TcpConnectionException>(() => net.RunAsync(a.ConnectTcpAsync(B, 9)));
        var entry = Assert.Single(log.Entries, e => e.EventId == 102);
        Assert.Equal("Apps.Stack.Tcp", entry.Category);
        Assert.Contains("ConnectionRefused", entry.Message);
        Assert.Contains("10.0.0.2:9", entry.Message);
    }
}
