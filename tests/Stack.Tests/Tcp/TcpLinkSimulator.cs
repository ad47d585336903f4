using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// Two TCP endpoint tables joined by a lossy link in virtual time. Each segment is serialized with
/// its checksum and parsed again on arrival. A seeded RNG decides loss, duplication and reordering
/// (extra random delay), so every run is identical.
/// </summary>
internal sealed class TcpLinkSimulator
{
    public static readonly Ipv4Address AddressA = Ipv4Address.Parse("10.0.0.1");
    public static readonly Ipv4Address AddressB = Ipv4Address.Parse("10.0.0.2");

    private readonly Random _rng;
    private readonly PriorityQueue<Packet, (TimeSpan, long)> _inFlight = new();
    private long _order;

    private sealed record Packet(TcpEndpointTable To, Ipv4Address Source, Ipv4Address Destination, byte[] Bytes);

    private sealed class LinkSink(TcpLinkSimulator net, TcpEndpointTable to) : ITcpSegmentSink
    {
        public void Transmit(in TcpTuple tuple, in TcpHeader header, ReadOnlySpan<byte> payload)
        {
            var bytes = new byte[header.Length + payload.Length];
            header.Emit(bytes);
            payload.CopyTo(bytes.AsSpan(header.Length));
            TcpHeader.WriteChecksum(bytes, tuple.LocalAddress, tuple.RemoteAddress);
            net.Send(new Packet(to, tuple.LocalAddress, tuple.RemoteAddress, bytes));
        }

        // A segmentation-offload burst: cut into segmentSize pieces as a NIC's TSO (or the kernel's GSO)
        // does, each behind a copy of the header with its own sequence number, PSH and FIN on the last
        // only; or, without CutLargeSegments, delivered whole as the local kernel takes it.
        public void TransmitLarge(in TcpTuple tuple, in TcpHeader header, ReadOnlySpan<byte> payload, int segmentSize)
        {
            net.LargeSegments++;
            if (!net.CutLargeSegments)
            {
                Transmit(tuple, header, payload);
                return;
            }
            for (int offset = 0; offset < payload.Length; offset += segmentSize)
            {
                int length = Math.Min(segmentSize, payload.Length - offset);
                bool last = offset + length == payload.Length;
                var flags = last ? header.Flags : header.Flags & ~(TcpFlags.Psh | TcpFlags.Fin);
                Transmit(tuple, header with { Sequence = header.Sequence + offset, Flags = flags }, payload.Slice(offset, length));
            }
        }
    }

    public TcpLinkSimulator(int seed, TcpSettings settings)
    {
        _rng = new Random(seed);
        A = new TcpEndpointTable(settings, b => _rng.NextBytes(b));
        B = new TcpEndpointTable(settings, b => _rng.NextBytes(b));
        SinkA = new LinkSink(this, B);
        SinkB = new LinkSink(this, A);
    }

    public TcpEndpointTable A { get; }
    public TcpEndpointTable B { get; }
    private ITcpSegmentSink SinkA { get; }
    private ITcpSegmentSink SinkB { get; }

    public TimeSpan Now { get; private set; } = TimeSpan.FromSeconds(1);
    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(10);
    public double Loss { get; init; }
    public double Duplication { get; init; }
    public double Reordering { get; init; }
    /// <summary>Rewrites or drops packets in flight (null = drop).</summary>
    public Func<byte[], byte[]?>? Tamper { get; init; }

    public int Sent, Dropped, Duplicated, Reordered;

    /// <summary>Cut segments handed over with <see cref="ITcpSegmentSink.TransmitLarge"/> into MSS pieces (TSO) rather than deliver them whole.</summary>
    public bool CutLargeSegments { get; init; }

    /// <summary>Segmentation-offload bursts the cores handed over, and the longest segment sent.</summary>
    public int LargeSegments, LongestSegment;

    /// <summary>The longest payload of a segment that resent sequence space already sent (by either side).</summary>
    public int LongestResend;

    private readonly Dictionary<Ipv4Address, TcpSeqNumber> _highestSent = [];

    /// <summary>Receives one line per packet sent (for debugging a failing seed).</summary>
    public Action<string>? Trace { get; init; }

    private void Send(Packet packet)
    {
        Sent++;
        if (TcpHeader.TryParse(packet.Bytes, out var parsed, out int dataOffset) == TcpParseError.None && packet.Bytes.Length > dataOffset)
        {
            int length = packet.Bytes.Length - dataOffset;
            LongestSegment = Math.Max(LongestSegment, length);
            var end = parsed.Sequence + length;
            if (_highestSent.TryGetValue(packet.Source, out var highest) && parsed.Sequence < highest)
                LongestResend = Math.Max(LongestResend, length);
            if (!_highestSent.TryGetValue(packet.Source, out highest) || end > highest)
                _highestSent[packet.Source] = end;
        }
        bool drop = _rng.NextDouble() < Loss;
        if (Trace is not null && TcpHeader.TryParse(packet.Bytes, out var h, out int offset) == TcpParseError.None)
        {
            Trace($"{Now.TotalSeconds:F3} {packet.Source}:{h.SourcePort} {h.Flags} seq={h.Sequence} ack={h.Acknowledgment} len={packet.Bytes.Length - offset} win={h.Window}{(drop ? " DROPPED" : "")}");
        }
        if (drop) { Dropped++; return; }
        Enqueue(packet);
        if (_rng.NextDouble() < Duplication) { Duplicated++; Enqueue(packet); }
    }

    private void Enqueue(Packet packet)
    {
        var delay = Latency;
        if (_rng.NextDouble() < Reordering)
        {
            Reordered++;
            delay += TimeSpan.FromMilliseconds(_rng.Next(1, 20));
        }
        _inFlight.Enqueue(packet, (Now + delay, _order++));
    }

    /// <summary>Runs until <paramref name="done"/> holds, nothing is left to do, or the virtual time limit passes.</summary>
    public bool RunUntil(Func<bool> done, TimeSpan limit, Action? pump = null)
    {
        var end = Now + limit;
        while (Now <= end)
        {
            pump?.Invoke();
            if (done()) return true;
            if (Due(A.PollAt)) A.Poll(Now, SinkA);
            if (Due(B.PollAt)) B.Poll(Now, SinkB);
            while (_inFlight.TryPeek(out var p, out var key) && key.Item1 <= Now)
            {
                _inFlight.Dequeue();
                var bytes = Tamper is null ? p.Bytes : Tamper(p.Bytes);
                if (bytes is not null) p.To.ReceiveSegment(p.Source, p.Destination, bytes, Now);
            }
            pump?.Invoke();
            if (Due(A.PollAt) || Due(B.PollAt)) continue;
            TimeSpan? next = null;
            if (_inFlight.TryPeek(out _, out var k)) next = k.Item1;
            foreach (var at in new[] { A.PollAt, B.PollAt })
            {
                if (at is TimeSpan t && (next is null || t < next)) next = t;
            }
            if (next is null) return done();
            if (next > Now) Now = next.Value;
        }
        return done();
    }

    private bool Due(TimeSpan? at) => at is TimeSpan t && t <= Now;

    public static byte[] Data(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
