using System.Buffers.Binary;
using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

// Demultiplexing (RFC 9293 §3.10.7.1-2): segments go to the connection matching their 4-tuple,
// else to a listener on the destination port, else they earn a RST (never in reply to a RST).
// Ephemeral ports follow RFC 6056 §3.3.1 (random start, linear probe) over 49152-65535 (RFC 6335).

/// <summary>
/// The sans-IO TCP endpoint table of one stack: listeners, connections by 4-tuple, resets for
/// closed ports, ISN generation and ephemeral ports. Driven by <see cref="ReceiveSegment"/>,
/// <see cref="Poll"/> and <see cref="PollAt"/>.
/// </summary>
public sealed class TcpEndpointTable
{
    public const ushort EphemeralFirst = 49152;
    public const ushort EphemeralLast = 65535;
    private const int MaxPendingResets = 64;

    private readonly Dictionary<TcpTuple, TcpControlBlock> _connections = [];
    private readonly Dictionary<ushort, TcpListenQueue> _listeners = [];
    private readonly Queue<(TcpTuple Tuple, TcpHeader Header)> _resets = new(); // stateless replies: RSTs and cookie SYN-ACKs
    // Scheduling without scanning every connection: `_due` holds connections to poll now (a segment
    // arrived, the application acted, a timer fired). `_timers` holds at most one live entry per
    // connection (its ScheduledAt), never later than its real deadline: a deadline that moves later
    // (the RTO restarting on every ACK) keeps the old entry, which on expiry is re-queued at the
    // real deadline; an earlier deadline queues a new entry and makes the old one stale.
    private readonly HashSet<TcpControlBlock> _due = new(ReferenceEqualityComparer.Instance);
    private readonly PriorityQueue<TcpControlBlock, TimeSpan> _timers = new();
    private readonly List<TcpControlBlock> _polled = [];
    private readonly Action<TcpControlBlock> _markDue;
    private readonly TcpIsnGenerator _isn;
    private readonly TcpSynCookies _cookies;
    private readonly Action<Span<byte>> _random;

    /// <param name="settings">Applied to every connection.</param>
    /// <param name="random">Fills a span with unpredictable bytes (the injected randomness source).</param>
    /// <param name="counters">Shared counters; a new set when null.</param>
    public TcpEndpointTable(TcpSettings settings, Action<Span<byte>> random, TcpCounters? counters = null)
    {
        settings.Validate();
        Settings = settings;
        Counters = counters ?? new TcpCounters();
        _random = random;
        _markDue = tcb => _due.Add(tcb);
        Span<byte> secret = stackalloc byte[32];
        random(secret);
        _isn = new TcpIsnGenerator(secret);
        random(secret);
        _cookies = new TcpSynCookies(secret);
    }

    public TcpSettings Settings { get; }
    public TcpCounters Counters { get; }
    public int ConnectionCount => _connections.Count;

    /// <summary>Opens a listener on <paramref name="port"/> (any local address); a SYN queue limit of 0 uses SYN cookies for every SYN.</summary>
    /// <exception cref="InvalidOperationException">The port already has a listener.</exception>
    public TcpListenQueue Listen(ushort port, int backlog = 128, int synQueueLimit = 256)
    {
        if (_listeners.ContainsKey(port)) throw new InvalidOperationException($"TCP port {port} already has a listener; stop it first or pick another port");
        // With SYN cookies a limit of 0 answers every SYN statelessly; without them one slot is the minimum.
        var listener = new TcpListenQueue(port, Math.Max(backlog, 1), Math.Max(synQueueLimit, Settings.SynCookies ? 0 : 1));
        _listeners.Add(port, listener);
        return listener;
    }

    /// <summary>Stops listening; connections already accepted are unaffected.</summary>
    public void StopListening(ushort port) => _listeners.Remove(port);

    /// <summary>Starts an active open from <paramref name="localAddress"/> (an ephemeral port unless given).</summary>
    /// <exception cref="InvalidOperationException">Every ephemeral port toward that peer is in use.</exception>
    public TcpControlBlock Connect(Ipv4Address localAddress, Ipv4Address remoteAddress, ushort remotePort, TimeSpan now, ushort localPort = 0, TimeSpan? connectTimeout = null)
    {
        var tuple = localPort != 0
            ? new TcpTuple(localAddress, localPort, remoteAddress, remotePort)
            : AllocateEphemeral(localAddress, remoteAddress, remotePort);
        if (_connections.ContainsKey(tuple)) throw new InvalidOperationException($"a TCP connection {tuple} already exists");
        var tcb = TcpControlBlock.Connect(Settings, Counters, tuple, _isn.Next(tuple, now), now, connectTimeout);
        _connections.Add(tuple, tcb);
        Track(tcb);
        return tcb;
    }

    private TcpTuple AllocateEphemeral(Ipv4Address local, Ipv4Address remote, ushort remotePort)
    {
        Span<byte> r = stackalloc byte[2];
        _random(r);
        const int count = EphemeralLast - EphemeralFirst + 1;
        int start = (r[0] << 8 | r[1]) % count;
        for (int i = 0; i < count; i++)
        {
            var port = (ushort)(EphemeralFirst + (start + i) % count);
            var tuple = new TcpTuple(local, port, remote, remotePort);
            if (!_listeners.ContainsKey(port) && !_connections.ContainsKey(tuple)) return tuple;
        }
        throw new InvalidOperationException($"no free ephemeral TCP port toward {remote}:{remotePort}; close some connections");
    }

    /// <summary>
    /// Verifies (unless the IP layer already did: <c>checksumVerified</c>), parses and dispatches a raw
    /// TCP segment carried in an IPv4 datagram.
    /// </summary>
    public void ReceiveSegment(Ipv4Address source, Ipv4Address destination, ReadOnlySpan<byte> segment, TimeSpan now, bool checksumVerified = false)
    {
        if (!checksumVerified && !TcpHeader.VerifyChecksum(segment, source, destination))
        {
            Counters.BadChecksum++;
            return;
        }
        if (TcpHeader.TryParse(segment, out var header, out int offset) != TcpParseError.None)
        {
            Counters.Malformed++;
            return;
        }
        Receive(source, destination, header, segment[offset..], now);
    }

    /// <summary>
    /// An ICMP destination unreachable quoting a segment we sent (<paramref name="quoted"/> starts at its
    /// TCP header: ports, then sequence number). Believed only for a known connection and a quoted
    /// sequence number it has outstanding (RFC 5927 §4.1), so blind ICMP cannot kill connections.
    /// </summary>
    public void ReceiveUnreachable(Ipv4Address local, Ipv4Address remote, byte code, ReadOnlySpan<byte> quoted)
    {
        if (quoted.Length < 8) return;
        var tuple = new TcpTuple(local, BinaryPrimitives.ReadUInt16BigEndian(quoted), remote, BinaryPrimitives.ReadUInt16BigEndian(quoted[2..]));
        if (!_connections.TryGetValue(tuple, out var tcb)) return;
        if (tcb.OnUnreachable(code, new TcpSeqNumber(BinaryPrimitives.ReadUInt32BigEndian(quoted[4..])))) _due.Add(tcb);
    }

    /// <summary>Dispatches a parsed segment.</summary>
    public void Receive(Ipv4Address source, Ipv4Address destination, in TcpHeader header, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        var tuple = new TcpTuple(destination, header.DestinationPort, source, header.SourcePort);
        if (_connections.TryGetValue(tuple, out var tcb) && tcb.State != TcpState.Closed)
        {
            // RFC 6191 / RFC 9293 §3.10.7.4: a new SYN may end TIME-WAIT early when it is provably newer.
            if ((header.Flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst)) == TcpFlags.Syn
                && _listeners.TryGetValue(header.DestinationPort, out var reusing) && tcb.AcceptsNewIncarnation(header))
            {
                var previousEnd = tcb.SndMax;
                tcb.EndTimeWait();
                _connections.Remove(tuple);
                Admit(reusing, tuple, header, now, previousEnd);
                return;
            }
            tcb.Receive(header, payload, now);
            _due.Add(tcb);
            return;
        }
        var flags = header.Flags;
        if ((flags & TcpFlags.Rst) != 0) return; // RFC 9293 §3.10.7.1/2: never answer a RST
        if (_listeners.TryGetValue(header.DestinationPort, out var listener))
        {
            if ((flags & TcpFlags.Ack) == 0)
            {
                if ((flags & TcpFlags.Syn) != 0) Admit(listener, tuple, header, now);
                return;
            }
            if ((flags & TcpFlags.Syn) == 0 && Settings.SynCookies && AcceptCookie(listener, tuple, header, payload, now)) return;
        }
        Counters.SegmentsReceived++;
        // RFC 9293 §3.10.7.1 (closed port) and §3.10.7.2 (ACK to a listener).
        int segLen = payload.Length + ((flags & TcpFlags.Syn) != 0 ? 1 : 0) + ((flags & TcpFlags.Fin) != 0 ? 1 : 0);
        var reset = (flags & TcpFlags.Ack) != 0
            ? new TcpHeader(header.DestinationPort, header.SourcePort, header.Acknowledgment, default, TcpFlags.Rst, 0)
            : new TcpHeader(header.DestinationPort, header.SourcePort, default, header.Sequence + segLen, TcpFlags.Rst | TcpFlags.Ack, 0);
        if (_resets.Count >= MaxPendingResets)
        {
            Counters.ResetsSuppressed++;
            return;
        }
        _resets.Enqueue((tuple, reset));
    }

    private void Admit(TcpListenQueue listener, TcpTuple tuple, in TcpHeader syn, TimeSpan now, TcpSeqNumber? previousEnd = null)
    {
        Counters.SegmentsReceived++;
        if (listener.BacklogFull)
        {
            Counters.ListenOverflows++;
            return;
        }
        if (Settings.SynCookies && listener.SynQueueFull)
        {
            // RFC 4987 §3.6: answer without keeping state. The MSS rides in the cookie; with timestamps
            // the other options ride in our TSval (TcpSynCookies), else they are not offered.
            int offered = syn.Options.MaxSegmentSize is ushort m && m > 0 ? m : 536;
            var o = syn.Options;
            bool timestamps = Settings.Timestamps && o.Timestamps.HasValue;
            byte? peerScale = Settings.WindowScaling ? o.WindowScale : null;
            bool sack = Settings.SelectiveAck && o.SackPermitted;
            int bits = timestamps ? TcpSynCookies.OptionBits(peerScale, sack) : TcpSynCookies.NoTimestamps;
            var cookie = _cookies.Make(tuple, syn.Sequence, Math.Min(offered, (int)Settings.MaxSegmentSize), bits, now);
            var options = new TcpOptions { MaxSegmentSize = Settings.MaxSegmentSize };
            if (timestamps)
            {
                uint tsval = TcpSynCookies.Timestamp(TcpControlBlock.TimestampClock(now, cookie.Value), bits);
                options = options with { Timestamps = new TcpTimestamps(tsval, o.Timestamps!.Value.Value), SackPermitted = sack };
                if (peerScale.HasValue) options = options with { WindowScale = TcpControlBlock.ReceiveWindowScaleFor(Settings) };
            }
            var synAck = new TcpHeader(syn.DestinationPort, syn.SourcePort, cookie, syn.Sequence + 1, TcpFlags.Syn | TcpFlags.Ack,
                (ushort)Math.Min(Settings.ReceiveBufferSize, ushort.MaxValue), options);
            if (_resets.Count >= MaxPendingResets)
            {
                Counters.ResetsSuppressed++;
                return;
            }
            _resets.Enqueue((tuple, synAck));
            Counters.SynCookiesSent++;
            return;
        }
        if (listener.EvictIfFull() is { } evicted)
        {
            evicted.Discard();
            _connections.Remove(evicted.Tuple);
            Counters.SynQueueEvictions++;
        }
        _connections.Remove(tuple); // a CLOSED leftover with the same tuple
        var iss = _isn.Next(tuple, now);
        // RFC 1122 §4.2.2.13: a reused tuple starts above every sequence number of the old incarnation.
        if (previousEnd is TcpSeqNumber end && iss - end < 1) iss = end + 65536;
        var tcb = TcpControlBlock.Accept(Settings, Counters, tuple, iss, syn, now);
        _connections.Add(tuple, tcb);
        Track(tcb);
        listener.AddHalfOpen(tcb);
        Counters.ConnectionsAccepted++;
    }

    /// <summary>An ACK to a listener with no connection: a completed cookie handshake, or nothing (false).</summary>
    private bool AcceptCookie(TcpListenQueue listener, TcpTuple tuple, in TcpHeader ack, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        int bits = Settings.Timestamps && ack.Options.Timestamps is TcpTimestamps ts
            ? TcpSynCookies.OptionBitsOf(ts.EchoReply)
            : TcpSynCookies.NoTimestamps;
        if (!_cookies.TryCheck(tuple, ack.Sequence - 1, ack.Acknowledgment - 1, bits, now, out int mss)) return false;
        Counters.SegmentsReceived++;
        if (listener.BacklogFull)
        {
            Counters.ListenOverflows++; // the client retransmits; the cookie stays valid for a while
            return true;
        }
        _connections.Remove(tuple);
        var tcb = TcpControlBlock.AcceptCookie(Settings, Counters, tuple, ack.Acknowledgment - 1, mss, bits, ack, now);
        _connections.Add(tuple, tcb);
        Track(tcb);
        listener.AddReady(tcb);
        Counters.SynCookiesAccepted++;
        Counters.ConnectionsAccepted++;
        tcb.Receive(ack, payload, now);
        return true;
    }

    private void Schedule(TcpControlBlock tcb, TimeSpan at)
    {
        if (tcb.ScheduledAt is TimeSpan existing && existing <= at) return; // fires early, then re-queues
        tcb.ScheduledAt = at;
        _timers.Enqueue(tcb, at);
    }

    private void Track(TcpControlBlock tcb)
    {
        tcb.PollRequested = _markDue;
        _due.Add(tcb);
    }

    /// <summary>
    /// Earliest time <see cref="Poll"/> must run: <see cref="TimeSpan.Zero"/> for now, null for never.
    /// O(1) apart from discarding stale timer entries.
    /// </summary>
    public TimeSpan? PollAt
    {
        get
        {
            if (_resets.Count > 0 || _due.Count > 0) return TimeSpan.Zero;
            while (_timers.TryPeek(out var tcb, out var at))
            {
                if (tcb.ScheduledAt == at) return at;
                _timers.Dequeue(); // stale: superseded by an earlier entry for the same connection
            }
            return null;
        }
    }

    /// <summary>Connections polled by the last <see cref="Poll"/>: the only ones that can have new events.</summary>
    public IReadOnlyList<TcpControlBlock> Polled => _polled;

    /// <summary>Sends pending resets, polls every connection that is due, and retires closed ones.</summary>
    public void Poll(TimeSpan now, ITcpSegmentSink sink)
    {
        while (_resets.TryDequeue(out var r))
        {
            sink.Transmit(r.Tuple, r.Header, default);
            Counters.SegmentsSent++;
            if ((r.Header.Flags & TcpFlags.Rst) != 0) Counters.ResetsSent++;
        }
        while (_timers.TryPeek(out var timed, out var at) && at <= now)
        {
            _timers.Dequeue();
            if (timed.ScheduledAt != at) continue;
            timed.ScheduledAt = null;
            if (timed.PollAt is TimeSpan real)
            {
                if (real <= now) _due.Add(timed);
                else Schedule(timed, real);
            }
        }
        _polled.Clear();
        foreach (var tcb in _due)
        {
            tcb.Poll(now, sink);
            _polled.Add(tcb);
        }
        _due.Clear();
        foreach (var tcb in _polled)
        {
            if (tcb.State == TcpState.Closed)
            {
                if (_connections.TryGetValue(tcb.Tuple, out var current) && ReferenceEquals(current, tcb)) _connections.Remove(tcb.Tuple);
                tcb.PollRequested = null;
                tcb.ScheduledAt = null;
            }
            else if (tcb.PollAt is TimeSpan next)
            {
                if (next <= now) _due.Add(tcb);
                else Schedule(tcb, next);
            }
        }
        foreach (var listener in _listeners.Values) listener.Promote();
    }

    /// <summary>The connection for <paramref name="tuple"/>, if any.</summary>
    public TcpControlBlock? Find(in TcpTuple tuple) => _connections.GetValueOrDefault(tuple);
}
