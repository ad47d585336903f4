namespace Apps.Stack.Netif;

using System.Buffers;
using Apps.Stack.Wire;

/// <summary>
/// An in-memory learning Ethernet switch connecting any number of stacks, with per-port faults
/// (<see cref="LinkImpairments"/>) driven by a <see cref="TimeProvider"/> (virtual in tests) and a seeded
/// generator, so a lossy run replays identically for a given seed and schedule. smoltcp's
/// FaultInjector and netsim are the model.
/// </summary>
/// <remarks>
/// A frame from port A to port B passes A's impairments and then B's: loss and duplication are drawn
/// for each, delays add up, and B's bandwidth limit queues frames towards B. Unknown and broadcast
/// destinations flood to every other port.
/// </remarks>
public sealed class InMemorySwitch
{
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly List<Port> _ports = [];
    private readonly Dictionary<MacAddress, Port> _learned = [];
    private readonly HashSet<ITimer> _inFlight = [];
    private long _delivered;
    private long _dropped;

    /// <param name="timeProvider">Clock for delays and bandwidth (a FakeTimeProvider in tests).</param>
    /// <param name="seed">Seed of the fault generator.</param>
    public InMemorySwitch(TimeProvider timeProvider, int seed = 1)
    {
        _time = timeProvider;
        _random = new Random(seed);
    }

    /// <summary>Frames handed to a port's receiver.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Frames lost to impairments (loss, MTU) or sent to no one.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Frames waiting out a delay.</summary>
    public int InFlight
    {
        get { lock (_lock) return _inFlight.Count; }
    }

    /// <summary>Adds a port; give it to a <see cref="NetworkStack"/> as its interface.</summary>
    public INetworkInterface CreatePort(LinkImpairments? impairments = null)
    {
        var port = new Port(this, impairments ?? LinkImpairments.None);
        lock (_lock)
            _ports.Add(port);
        return port;
    }

    private void Forward(Port from, ReadOnlySpan<byte> frame)
    {
        if (frame.Length < EthernetHeader.Length)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        // Frames without delay are handed over under the lock, straight from the sender's span: a
        // receiver only copies the frame into its queue and never calls back into the switch.
        lock (_lock)
        {
            var destination = MacAddress.Read(frame);
            var source = MacAddress.Read(frame[6..]);
            if (!source.IsMulticast)
                _learned[source] = from;
            if (!destination.IsMulticast && _learned.TryGetValue(destination, out var target))
            {
                if (target != from)
                    Schedule(from, target, frame);
            }
            else
            {
                foreach (var port in _ports)
                    if (port != from)
                        Schedule(from, port, frame);
            }
        }
    }

    // Called under the lock.
    private void Schedule(Port from, Port to, ReadOnlySpan<byte> frame)
    {
        var a = from.Impairments;
        var b = to.Impairments;
        if (frame.Length - EthernetHeader.Length > Math.Min(a.Mtu, b.Mtu)
            || Draw(a.Loss) || Draw(b.Loss))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        int copies = 1 + (Draw(a.Duplication) ? 1 : 0) + (Draw(b.Duplication) ? 1 : 0);
        for (int i = 0; i < copies; i++)
        {
            var delay = a.Delay + b.Delay;
            if (Draw(a.Reordering) || Draw(b.Reordering))
                delay += a.ReorderDelay > b.ReorderDelay ? a.ReorderDelay : b.ReorderDelay;
            if (b.BitsPerSecond > 0)
            {
                var now = _time.GetTimestamp();
                var start = Math.Max(now, to.LinkFreeAt);
                long ticks = (long)(frame.Length * 8.0 / b.BitsPerSecond * _time.TimestampFrequency);
                to.LinkFreeAt = start + ticks;
                delay += TimeSpan.FromSeconds((double)(to.LinkFreeAt - now) / _time.TimestampFrequency);
            }
            if (delay <= TimeSpan.Zero)
            {
                Deliver(to, frame);
                continue;
            }
            DeliverLater(to, frame, delay);
        }
    }

    // Called under the lock. A method of its own so that the timer's closure is allocated only for a
    // delayed frame, never on the direct path.
    private void DeliverLater(Port to, ReadOnlySpan<byte> frame, TimeSpan delay)
    {
        var copy = ArrayPool<byte>.Shared.Rent(frame.Length);
        int length = frame.Length;
        frame.CopyTo(copy);
        ITimer? timer = null;
        timer = _time.CreateTimer(_ =>
        {
            lock (_lock)
            {
                _inFlight.Remove(timer!);
                Deliver(to, copy.AsSpan(0, length));
            }
            timer!.Dispose();
            ArrayPool<byte>.Shared.Return(copy);
        }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _inFlight.Add(timer);
        timer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    private bool Draw(double probability) => probability > 0 && _random.NextDouble() < probability;

    private void Deliver(Port to, ReadOnlySpan<byte> frame)
    {
        if (to.Receiver is { } receiver)
        {
            Interlocked.Increment(ref _delivered);
            receiver(frame, default);
        }
        else
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private void Remove(Port port)
    {
        lock (_lock)
        {
            _ports.Remove(port);
            List<MacAddress>? stale = null;
            foreach (var (mac, p) in _learned)
                if (p == port)
                    (stale ??= []).Add(mac);
            if (stale is not null)
                foreach (var mac in stale)
                    _learned.Remove(mac);
        }
    }

    private sealed class Port(InMemorySwitch owner, LinkImpairments impairments) : INetworkInterface
    {
        public LinkImpairments Impairments { get; } = impairments;
        public volatile FrameReceiver? Receiver;
        public long LinkFreeAt;

        public int Mtu => Impairments.Mtu;

        public void Start(FrameReceiver receiver) => Receiver = receiver;

        public void Transmit(ReadOnlySpan<byte> frame) => owner.Forward(this, frame);

        public void Dispose()
        {
            Receiver = null;
            owner.Remove(this);
        }
    }
}
