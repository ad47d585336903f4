using System.Net;
using System.Net.Sockets;
using Apps.Stack;
using Apps.Stack.Netif;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;
using BenchmarkDotNet.Attributes;

namespace Apps.Bench.Stack;

/// <summary>
/// Bulk TCP throughput, 16 MiB per operation (divide by the mean for MB/s). Anchor: the Linux
/// kernel's TCP over loopback sockets. Ours: (1) two connection cores back to back, every segment
/// serialized with its checksum and parsed again; (2) two whole NetworkStacks (Ethernet, ARP, IPv4,
/// each with its loop thread) on the in-memory switch, through the pipe API, in real time.
/// </summary>
/// <remarks>
/// <see cref="StacksOverInMemorySwitchBefore"/> runs the same transfer on another build of the stack (an
/// earlier commit, see <see cref="BaselineStackPair"/>) named by <c>APPS_STACK_BASELINE</c>, so that a
/// before/after comparison is one run; without that variable only that row fails.
/// </remarks>
[MemoryDiagnoser]
public class TcpThroughputBenchmarks
{
    private const int Bytes = 16 * 1024 * 1024;
    private readonly byte[] _data = new byte[1024 * 1024];
    private readonly byte[] _sink = new byte[256 * 1024];
    private Socket? _client, _server;
    private NetworkStack? _stackA, _stackB;
    private TcpConnection? _pipeClient, _pipeServer;
    private BaselineStackPair? _before;

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_data);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        _client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _client.Connect(listener.LocalEndPoint!);
        _server = listener.Accept();
        SetupStacksAsync().GetAwaiter().GetResult();
    }

    private async Task SetupStacksAsync()
    {
        var network = new InMemorySwitch(TimeProvider.System);
        _stackA = new NetworkStack(network.CreatePort(), new NetworkStackOptions { Name = "bench-a", Address = Ipv4Settings.Parse("10.0.0.1/24") });
        _stackB = new NetworkStack(network.CreatePort(), new NetworkStackOptions { Name = "bench-b", Address = Ipv4Settings.Parse("10.0.0.2/24") });
        var listener = await _stackB.ListenTcpAsync(5001);
        var accept = listener.AcceptAsync().AsTask();
        _pipeClient = await _stackA.ConnectTcpAsync(Ipv4Address.Parse("10.0.0.2"), 5001);
        _pipeServer = await accept;
    }

    [GlobalSetup(Target = nameof(StacksOverInMemorySwitchBefore))]
    public void SetupBefore()
    {
        var path = BaselineStackPair.ConfiguredPath
            ?? throw new InvalidOperationException($"set {BaselineStackPair.Variable} to an Apps.Stack.dll built from an earlier commit to compare with it");
        _before = BaselineStackPair.ConnectAsync(path).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _before?.Dispose();
        _client?.Dispose();
        _server?.Dispose();
        _stackA?.Dispose();
        _stackB?.Dispose();
    }

    [Benchmark]
    public Task<long> StacksOverInMemorySwitch() => TransferAsync(_pipeClient!.Output, _pipeServer!.Input);

    [Benchmark]
    public Task<long> StacksOverInMemorySwitchBefore() => TransferAsync(_before!.Output, _before.Input);

    private async Task<long> TransferAsync(System.IO.Pipelines.PipeWriter output, System.IO.Pipelines.PipeReader input)
    {
        var send = Task.Run(async () =>
        {
            for (int sent = 0; sent < Bytes; sent += _data.Length) await output.WriteAsync(_data);
        });
        long received = 0;
        while (received < Bytes)
        {
            var result = await input.ReadAsync();
            long take = Math.Min(result.Buffer.Length, Bytes - received);
            received += take;
            input.AdvanceTo(result.Buffer.GetPosition(take));
        }
        await send;
        return received;
    }

    [Benchmark(Baseline = true)]
    public async Task<long> LinuxLoopbackSockets()
    {
        var send = Task.Run(() =>
        {
            for (int sent = 0; sent < Bytes; sent += _data.Length) _client!.Send(_data);
        });
        long received = 0;
        while (received < Bytes) received += _server!.Receive(_sink);
        await send;
        return received;
    }

    [Benchmark]
    public long CoresBackToBack()
    {
        var pair = new CorePair();
        long written = 0, received = 0;
        while (received < Bytes)
        {
            long progress = written + received;
            if (written < Bytes && pair.Client.State == TcpState.Established)
                written += pair.Client.Send(_data.AsSpan((int)(written % _data.Length)));
            pair.Run();
            int n;
            while ((n = pair.Server.Read(_sink)) > 0) received += n;
            if (written + received == progress) pair.SkipToNextDeadline();
        }
        return received;
    }

    /// <summary>Two cores joined by a queue of serialized segments; time advances 1 µs per round.</summary>
    private sealed class CorePair : ITcpSegmentSink
    {
        private static readonly Ipv4Address A = new(10, 0, 0, 1), B = new(10, 0, 0, 2);
        private static readonly TcpSettings Settings = new() { MaxSegmentSize = 1460, NoDelay = true };
        private readonly Queue<(byte[] Bytes, int Length, bool ToServer)> _wire = new();
        private readonly Stack<byte[]> _free = new();
        private TimeSpan _now = TimeSpan.FromSeconds(1);

        public CorePair()
        {
            Client = TcpControlBlock.Connect(Settings, new TcpCounters(), new TcpTuple(A, 40000, B, 80), new TcpSeqNumber(1), _now);
            Client.Poll(_now, this);
            var (syn, length, _) = _wire.Dequeue();
            TcpHeader.TryParse(syn.AsSpan(0, length), out var header, out _);
            Server = TcpControlBlock.Accept(Settings, new TcpCounters(), new TcpTuple(B, 80, A, 40000), new TcpSeqNumber(7), header, _now);
            _free.Push(syn);
            Run();
        }

        public TcpControlBlock Client { get; }
        public TcpControlBlock Server { get; }

        public void Run()
        {
            do
            {
                _now += TimeSpan.FromTicks(10);
                if (Client.PollAt is TimeSpan c && c <= _now) Client.Poll(_now, this);
                if (Server.PollAt is TimeSpan s && s <= _now) Server.Poll(_now, this);
                while (_wire.TryDequeue(out var item))
                {
                    var bytes = item.Bytes.AsSpan(0, item.Length);
                    var (to, source, destination) = item.ToServer ? (Server, A, B) : (Client, B, A);
                    if (TcpHeader.VerifyChecksum(bytes, source, destination)
                        && TcpHeader.TryParse(bytes, out var header, out int offset) == TcpParseError.None)
                    {
                        to.Receive(header, bytes[offset..], _now);
                    }
                    _free.Push(item.Bytes);
                }
            }
            while (Client.PollAt == TimeSpan.Zero || Server.PollAt == TimeSpan.Zero);
        }

        /// <summary>Nothing to do until a timer: jump virtual time to it.</summary>
        public void SkipToNextDeadline()
        {
            var next = TimeSpan.MaxValue;
            if (Client.PollAt is TimeSpan c && c < next) next = c;
            if (Server.PollAt is TimeSpan s && s < next) next = s;
            if (next != TimeSpan.MaxValue && next > _now) _now = next;
        }

        public void Transmit(in TcpTuple tuple, in TcpHeader header, ReadOnlySpan<byte> payload)
        {
            int length = header.Length + payload.Length;
            var bytes = _free.Count > 0 ? _free.Pop() : new byte[TcpHeader.MaxLength + 1500];
            header.Emit(bytes);
            payload.CopyTo(bytes.AsSpan(header.Length));
            TcpHeader.WriteChecksum(bytes.AsSpan(0, length), tuple.LocalAddress, tuple.RemoteAddress);
            _wire.Enqueue((bytes, length, tuple.LocalAddress == A));
        }
    }
}
