namespace Apps.Stack.Tcp;

/// <summary>Tunables of a TCP connection; the defaults follow the RFCs cited on each.</summary>
public sealed record TcpSettings
{
    /// <summary>MSS we announce (RFC 9293 §3.7.1); 1460 fits a 1500-byte Ethernet MTU.</summary>
    public ushort MaxSegmentSize { get; init; } = 1460;

    /// <summary>Send buffer bound in bytes.</summary>
    public int SendBufferSize { get; init; } = 256 * 1024;

    /// <summary>Receive buffer bound in bytes; out-of-order data is held inside it too.</summary>
    public int ReceiveBufferSize { get; init; } = 256 * 1024;

    /// <summary>Most disjoint out-of-order ranges held for reassembly.</summary>
    public int MaxOutOfOrderRanges { get; init; } = 16;

    /// <summary>Most SACK ranges remembered about the peer's receive queue.</summary>
    public int MaxSackScoreboardRanges { get; init; } = 32;

    public bool WindowScaling { get; init; } = true;
    public bool Timestamps { get; init; } = true;
    public bool SelectiveAck { get; init; } = true;

    /// <summary>Disables Nagle's algorithm (RFC 9293 §3.7.4) when true.</summary>
    public bool NoDelay { get; init; }

    /// <summary>Delayed-ACK timer (RFC 9293 §3.8.6.3: under 0.5 s; ACK at least every second full segment).</summary>
    public TimeSpan DelayedAckTimeout { get; init; } = TimeSpan.FromMilliseconds(40);

    /// <summary>RFC 6298 §2.1 initial RTO.</summary>
    public TimeSpan InitialRto { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>RFC 6298 §2.4 lower bound.</summary>
    public TimeSpan MinRto { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>RFC 6298 §2.5 upper bound (at least 60 s).</summary>
    public TimeSpan MaxRto { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Data retransmissions before giving up (RFC 9293 §3.8.3 R2).</summary>
    public int MaxRetransmissions { get; init; } = 12;

    /// <summary>SYN retransmissions before a connect times out.</summary>
    public int MaxSynRetransmissions { get; init; } = 6;

    /// <summary>Maximum segment lifetime; TIME-WAIT lasts twice this (RFC 9293 §3.4.2).</summary>
    public TimeSpan MaxSegmentLifetime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long FIN-WAIT-2 may last once the application reads no more (a resource bound, like Linux's
    /// tcp_fin_timeout for orphaned sockets). While the application still reads, a half-closed
    /// connection waits for the peer's FIN as long as it takes (RFC 9293 sets no limit).
    /// </summary>
    public TimeSpan FinWait2Timeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Idle time before keep-alive probes (RFC 9293 §3.8.4: off by default, at least 2 h).</summary>
    public TimeSpan? KeepAliveIdle { get; init; }

    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(75);
    public int KeepAliveProbes { get; init; } = 9;

    /// <summary>
    /// Answer SYNs with SYN cookies (RFC 4987 §3.6) once a listener's SYN queue is full; when false,
    /// the oldest half-open connection is evicted instead.
    /// </summary>
    public bool SynCookies { get; init; } = true;

    /// <summary>
    /// Largest TCP segment, in data bytes, for a link with segmentation offload (TSO) to cut into MSS-sized
    /// segments; 0 (the default) keeps every segment within one MSS. The stack sets it from its link
    /// (65535 minus the IPv4 header and the largest TCP header). New data is then sent in bursts of whole
    /// MSS multiples up to this size; retransmissions and probes stay within one MSS.
    /// </summary>
    public int SegmentOffloadSize { get; init; }

    /// <summary>Most challenge ACKs per second (RFC 5961 §7).</summary>
    public int ChallengeAckLimitPerSecond { get; init; } = 10;

    /// <summary>The largest <see cref="SegmentOffloadSize"/>: a 65535-byte IPv4 packet minus 20 bytes of IPv4 and 60 of TCP header.</summary>
    public const int MaxOffloadedSegment = ushort.MaxValue - 20 - 60;

    /// <summary>Rejects settings the cores cannot run with (API misuse: a caller's mistake).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size, count or time is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSegmentSize, (ushort)64, nameof(MaxSegmentSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(SendBufferSize, (int)MaxSegmentSize, nameof(SendBufferSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBufferSize, (int)MaxSegmentSize, nameof(ReceiveBufferSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ReceiveBufferSize, 1 << 30, nameof(ReceiveBufferSize)); // RFC 7323 §2.3: 2^30 max window
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxOutOfOrderRanges, 1, nameof(MaxOutOfOrderRanges));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSackScoreboardRanges, 1, nameof(MaxSackScoreboardRanges));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MinRto, TimeSpan.Zero, nameof(MinRto));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRto, MinRto, nameof(MaxRto));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetransmissions, nameof(MaxRetransmissions));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxSynRetransmissions, nameof(MaxSynRetransmissions));
        ArgumentOutOfRangeException.ThrowIfNegative(SegmentOffloadSize, nameof(SegmentOffloadSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(SegmentOffloadSize, MaxOffloadedSegment, nameof(SegmentOffloadSize));
    }
}
