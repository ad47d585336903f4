namespace Apps.Stack.Ip;

using Apps.Stack.Wire;

/// <summary>
/// The hook where TCP plugs into the IPv4 layer. The stack calls every member on its loop thread,
/// one call at a time, so an implementation needs no locks for its own state.
/// </summary>
/// <remarks>
/// Wiring: <see cref="NetworkStack"/> calls <see cref="Attach"/> once with the IP output, then delivers
/// every inbound segment addressed to us with protocol 6. The segment's checksum has already been
/// verified against the pseudo-header (RFC 9293 §3.1) and it has been reassembled if it was fragmented.
/// After every inbound frame, API command or timer tick the loop calls <see cref="Poll"/> when
/// <see cref="NextDeadline"/> has passed, and re-arms its timer for the earliest deadline of all layers.
/// </remarks>
internal interface ITcpTransport
{
    /// <summary>Gives TCP its way out. Called once, before any other member.</summary>
    void Attach(IIpv4Output output);

    /// <summary>An inbound TCP segment (header and data; valid only during the call).</summary>
    void OnSegment(Ipv4Address source, Ipv4Address destination, ReadOnlySpan<byte> segment, TimeSpan now);

    /// <summary>
    /// An ICMP destination unreachable about a segment we sent (RFC 1122 §4.2.3.9; RFC 5927 advises
    /// treating these as soft errors). <paramref name="quoted"/> starts at the quoted TCP header and holds
    /// at least its first 8 bytes (ports and sequence number).
    /// </summary>
    void OnDestinationUnreachable(Ipv4Address localAddress, Ipv4Address remoteAddress, byte code, ReadOnlySpan<byte> quoted, TimeSpan now);

    /// <summary>Runs due timers (retransmission, delayed ACK, TIME_WAIT, keep-alive...).</summary>
    void Poll(TimeSpan now);

    /// <summary>When <see cref="Poll"/> next has work; <see cref="TimeSpan.MaxValue"/> for never.</summary>
    TimeSpan NextDeadline { get; }
}

/// <summary>What the IPv4 layer offers the transport above it. Use only on the stack's loop thread.</summary>
internal interface IIpv4Output
{
    /// <summary>Our address, or null while unconfigured (DHCP not bound yet).</summary>
    Ipv4Address? LocalAddress { get; }

    /// <summary>The link MTU: the largest IPv4 packet sent unfragmented (MSS = Mtu - 40 for TCP).</summary>
    int Mtu { get; }

    /// <summary>
    /// What the link does for us: with <see cref="Netif.LinkOffloads.Checksum"/> TCP may leave its checksum
    /// partial (<see cref="SendTcpPartial(Ipv4Address, Span{byte}, int, TimeSpan)"/>); with <see cref="Netif.LinkOffloads.TcpSegmentation"/> it may
    /// also send segments of more than one MSS, up to 65535 bytes of IPv4 packet, which the link cuts.
    /// </summary>
    Netif.LinkOffloads Offloads { get; }

    /// <summary>
    /// Where the next datagram's payload may be built in place (<see cref="Mtu"/> - 20 bytes, or 65515
    /// with segmentation offload): a <see cref="Send"/> or <see cref="SendTcpPartial(Ipv4Address, Span{byte}, int, TimeSpan)"/> of a prefix of
    /// this span skips copying it. Valid until the next send.
    /// </summary>
    Span<byte> PayloadBuffer { get; }

    /// <summary>
    /// Sends a TCP segment whose checksum field holds only the pseudo-header sum
    /// (<see cref="TcpHeader.WritePartialChecksum(Span{byte}, Ipv4Address, Ipv4Address)"/>), for the link to complete. A segment whose data is
    /// longer than <paramref name="segmentSize"/> is sent as one frame the link cuts into
    /// <paramref name="segmentSize"/>-byte segments. Where the link cannot (loopback, a next hop still
    /// being resolved, no offload) the checksum is completed here, in <paramref name="segment"/>, and the
    /// datagram takes the path of <see cref="Send"/>.
    /// </summary>
    DropReason SendTcpPartial(Ipv4Address destination, Span<byte> segment, int segmentSize, TimeSpan now);

    /// <summary>
    /// <see cref="SendTcpPartial(Ipv4Address, Span{byte}, int, TimeSpan)"/> for a segment given as its TCP
    /// <paramref name="header"/> (checksum field: the pseudo-header sum over header and data) and its
    /// <paramref name="data"/> where it lies: over an offloading link the data goes to the link without being
    /// copied here. A header built at the start of <see cref="PayloadBuffer"/> is not copied either.
    /// </summary>
    DropReason SendTcpPartial(Ipv4Address destination, Span<byte> header, ReadOnlySpan<byte> data, int segmentSize, TimeSpan now);

    /// <summary>
    /// Sends <paramref name="payload"/> (for TCP: header with checksum filled in, plus data) in an IPv4
    /// packet from <see cref="LocalAddress"/> to <paramref name="destination"/>, resolving the next hop with
    /// ARP (queuing while it resolves) and fragmenting above <see cref="Mtu"/>. The span is copied before
    /// the call returns. Returns <see cref="DropReason.None"/> when sent or queued, else why not.
    /// </summary>
    DropReason Send(Ipv4Address destination, byte protocol, ReadOnlySpan<byte> payload, TimeSpan now);
}
