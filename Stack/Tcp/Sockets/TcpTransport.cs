using Apps.Stack.Ip;
using Apps.Stack.Netif;
using Apps.Stack.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Apps.Stack.Tcp;

// The shell between NetworkStack's loop and the sans-IO TCP cores. Everything here except the
// members marked "any thread" runs on the stack's loop thread, one call at a time (ITcpTransport's
// contract), so the cores need no locks. Application objects (TcpConnection, TcpListener) talk to
// it only through Post/InvokeAsync.

/// <summary>
/// Plugs a <see cref="TcpEndpointTable"/> into a <see cref="NetworkStack"/> (its <see cref="ITcpTransport"/>
/// hook), serializes outbound segments into IP datagrams and turns core events into pipe activity.
/// </summary>
internal sealed class TcpTransport : ITcpTransport, ITcpSegmentSink
{
    private readonly StackLoop _loop;
    private readonly TcpSettings _settings;
    private readonly Action<Span<byte>> _random;
    private readonly ILogger _logger;
    private readonly Dictionary<TcpControlBlock, TcpConnection> _connections = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ushort, TcpListener> _listeners = [];
    private readonly byte[] _segment = new byte[TcpHeader.MaxLength + ushort.MaxValue];
    private TcpEndpointTable? _table;
    private IIpv4Output? _output;
    private TimeSpan _now;
    private bool _partialChecksums;

    /// <param name="loop">The stack's loop: every call but the "any thread" ones runs on it.</param>
    /// <param name="settings">Applied to every connection.</param>
    /// <param name="random">Keys the ISNs and SYN cookies, picks ephemeral ports.</param>
    /// <param name="logger">Connection events.</param>
    /// <param name="stopped">Cancelled when the stack is disposed, after its loop stopped: every pending
    /// connect, accept, read and write then fails with <see cref="ObjectDisposedException"/>.</param>
    public TcpTransport(StackLoop loop, TcpSettings settings, Action<Span<byte>> random, ILogger? logger = null, CancellationToken stopped = default)
    {
        _logger = logger ?? NullLogger.Instance;
        _loop = loop;
        _settings = settings;
        _random = random;
        TcpMetrics.Register(Counters);
        stopped.Register(OnStackStopped);
    }

    /// <summary>The exception every TCP operation of a disposed stack ends with.</summary>
    internal static ObjectDisposedException StackDisposed(string what) =>
        new(nameof(NetworkStack), $"the network stack was disposed, so {what} cannot go on; create a new stack");

    /// <summary>TCP event counts for this stack (any thread; values may lag).</summary>
    public TcpCounters Counters { get; } = new();

    /// <summary>Segments the IP layer refused to send (no route, ARP queue full...); TCP treats them as lost.</summary>
    public long SendFailures { get; private set; }

    /// <summary>ICMP destination-unreachable messages about our segments (see <see cref="TcpEndpointTable.ReceiveUnreachable"/>).</summary>
    public long SoftErrors { get; private set; }

    /// <summary>The loop time of the call in progress (loop thread).</summary>
    internal TimeSpan Now => _now;

    private TcpEndpointTable Table => _table ?? throw new InvalidOperationException("TCP is not attached to a stack yet");

    public void Attach(IIpv4Output output)
    {
        _output = output;
        // RFC 9293 §3.7.1: MSS = MTU - 40 for IPv4 without options.
        ushort mss = (ushort)Math.Clamp(output.Mtu - 40, 64, _settings.MaxSegmentSize);
        // A link that segments for us takes bursts up to a 64 KiB IPv4 packet (but no more than we buffer).
        int offload = (output.Offloads & LinkOffloads.TcpSegmentation) != 0
            ? Math.Min(TcpSettings.MaxOffloadedSegment, _settings.SendBufferSize)
            : 0;
        _partialChecksums = (output.Offloads & LinkOffloads.Checksum) != 0;
        _table = new TcpEndpointTable(_settings with { MaxSegmentSize = mss, SegmentOffloadSize = offload }, _random, Counters);
    }

    public void OnSegment(Ipv4Address source, Ipv4Address destination, ReadOnlySpan<byte> segment, TimeSpan now)
    {
        _now = now;
        Table.ReceiveSegment(source, destination, segment, now, checksumVerified: true);
    }

    public void OnDestinationUnreachable(Ipv4Address localAddress, Ipv4Address remoteAddress, byte code, ReadOnlySpan<byte> quoted, TimeSpan now)
    {
        SoftErrors++;
        _now = now;
        Table.ReceiveUnreachable(localAddress, remoteAddress, code, quoted);
    }

    public TimeSpan NextDeadline => _table?.PollAt ?? TimeSpan.MaxValue;

    public void Poll(TimeSpan now)
    {
        _now = now;
        var table = Table;
        table.Poll(now, this);
        foreach (var listener in _listeners.Values) listener.Fill();
        // Only connections the table just polled can have new events.
        var polled = table.Polled;
        for (int i = 0; i < polled.Count; i++) // by index: foreach over the interface would allocate an enumerator per poll
        {
            var tcb = polled[i];
            if (!_connections.TryGetValue(tcb, out var connection)) continue; // not accepted yet
            var events = tcb.TakeEvents();
            if (events == TcpEvents.None) continue;
            connection.OnEvents(events);
            if ((events & TcpEvents.Established) != 0) TcpLog.Established(_logger, tcb.Tuple);
            if ((events & TcpEvents.Closed) == 0) continue;
            _connections.Remove(tcb);
            if (tcb.Error == TcpError.None) TcpLog.Closed(_logger, tcb.Tuple);
            else TcpLog.Failed(_logger, tcb.Tuple, tcb.Error, tcb.LastUnreachableCode);
        }
    }

    void ITcpSegmentSink.Transmit(in TcpTuple tuple, in TcpHeader header, ReadOnlySpan<byte> payload) =>
        Send(tuple, header, payload, segmentSize: 0);

    void ITcpSegmentSink.TransmitLarge(in TcpTuple tuple, in TcpHeader header, ReadOnlySpan<byte> payload, int segmentSize) =>
        Send(tuple, header, payload, segmentSize);

    private void Send(in TcpTuple tuple, in TcpHeader header, ReadOnlySpan<byte> payload, int segmentSize)
    {
        int length = header.Length + payload.Length;
        var output = _output!;
        var inPlace = output.PayloadBuffer; // built where the IP layer sends from: one copy less
        DropReason result;
        if (_partialChecksums)
        {
            // The link sums the data (RFC 9293 §3.1 checksum completed by the offload), so the data never
            // needs to sit behind the header here: it goes to the link from the send buffer where it lies.
            var head = inPlace[..header.Length];
            header.Emit(head);
            TcpHeader.WritePartialChecksum(head, length, tuple.LocalAddress, tuple.RemoteAddress);
            // Each cut segment repeats this header: with SACK blocks it is longer than the MSS assumed,
            // so the pieces shrink to keep within the MTU should the kernel cut them (when it forwards).
            if (segmentSize > 0) segmentSize = Math.Min(segmentSize, output.Mtu - Ipv4Header.MinLength - header.Length);
            result = output.SendTcpPartial(tuple.RemoteAddress, head, payload, segmentSize, _now);
        }
        else
        {
            var segment = length <= inPlace.Length ? inPlace[..length] : _segment.AsSpan(0, length);
            header.Emit(segment);
            payload.CopyTo(segment[header.Length..]);
            TcpHeader.WriteChecksum(segment, tuple.LocalAddress, tuple.RemoteAddress);
            result = output.Send(tuple.RemoteAddress, TcpHeader.IpProtocol, segment, _now);
        }
        if (result != DropReason.None) SendFailures++;
    }

    /// <summary>Runs <paramref name="work"/> on the loop (any thread).</summary>
    public void Post(Action<TimeSpan> work) => _loop.Post(work);

    /// <summary>
    /// Runs <paramref name="work"/> on the loop and returns its result (any thread). Fails with
    /// <see cref="ObjectDisposedException"/> once the stack is disposed, even if the loop dropped the work.
    /// </summary>
    public Task<T> InvokeAsync<T>(Func<TimeSpan, T> work) => _loop.InvokeAsync(work);

    // The disposing thread, after the loop stopped (so loop-only state is ours): nothing may wait forever.
    private void OnStackStopped()
    {
        foreach (var listener in _listeners.Values) listener.OnStackStopped();
        _listeners.Clear();
        foreach (var connection in _connections.Values) connection.OnStackStopped();
        _connections.Clear();
    }

    /// <summary>Active open from our address; the connection is registered before the SYN leaves.</summary>
    public TcpConnection Connect(Ipv4Address remote, ushort port, TimeSpan? timeout, TimeSpan now)
    {
        var local = _output?.LocalAddress
            ?? throw new NetworkStackException(DropReason.NoRoute, $"cannot connect to {remote}:{port}: the stack has no address yet; configure one or wait for DHCP");
        var tcb = Table.Connect(local, remote, port, now, connectTimeout: timeout);
        return Adopt(tcb);
    }

    /// <summary>Gives a core connection its application face and starts moving its data.</summary>
    public TcpConnection Adopt(TcpControlBlock tcb)
    {
        var connection = new TcpConnection(this, tcb);
        _connections.Add(tcb, connection);
        connection.Start();
        var pending = tcb.TakeEvents(); // raised while it waited in the accept queue
        if (pending != TcpEvents.None) connection.OnEvents(pending);
        return connection;
    }

    public TcpListener Listen(ushort port, int backlog, int synQueueLimit)
    {
        var queue = Table.Listen(port, backlog, synQueueLimit); // throws when the port is taken
        var listener = new TcpListener(this, queue, _output?.LocalAddress ?? Ipv4Address.Any);
        _listeners.Add(port, listener);
        return listener;
    }

    public void StopListening(ushort port)
    {
        _listeners.Remove(port);
        Table.StopListening(port);
    }
}
