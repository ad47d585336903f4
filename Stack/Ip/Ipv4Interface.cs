namespace Apps.Stack.Ip;

using Apps.Stack.Arp;
using Apps.Stack.Wire;

/// <summary>
/// The sans-IO core of one Ethernet interface: Ethernet II, ARP, IPv4 (routing, fragmentation,
/// reassembly) and the dispatch to ICMP, UDP and TCP. Frames, commands and <c>now</c> go in; frames go
/// out through the transmit callback and upper-layer events through the receiver interfaces.
/// </summary>
/// <remarks>
/// Read this first: not thread-safe; <see cref="NetworkStack"/> calls it from its loop thread only.
/// Nothing here reads a clock or draws randomness except through the injected callbacks. Every
/// discarded inbound packet is counted in <see cref="Counters"/> with its <see cref="DropReason"/>.
/// Split by concern: ARP and Ethernet here, IPv4 in Ipv4Interface.Ipv4.cs, ICMP and UDP in their files.
/// </remarks>
internal sealed partial class Ipv4Interface : IIpv4Output
{
    /// <summary>Default time-to-live for packets we originate (RFC 1700 / Linux default).</summary>
    public const byte DefaultTtl = 64;

    private readonly FrameTransmitter _transmit;
    private readonly Action<Span<byte>> _random;
    private readonly ArpCache _arp = new();
    private readonly Ipv4Reassembler _reassembler = new();
    private readonly byte[] _frame;
    private ushort _nextIdentification;
    private readonly Queue<byte[]> _loopback = new();

    /// <summary>Datagrams to ourselves waiting for the next <see cref="Poll"/>.</summary>
    public const int MaxLoopbackQueue = 256;

    /// <summary>Sends one frame on the link (the span is valid only during the call).</summary>
    public delegate void FrameTransmitter(ReadOnlySpan<byte> frame);

    /// <summary>
    /// Sends one frame with offload requests for the link, given as its headers and then its payload where it
    /// lies (the spans are valid only during the call).
    /// </summary>
    public delegate void OffloadedFrameTransmitter(ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload, in Netif.FrameOffload offload);

    private readonly OffloadedFrameTransmitter? _offloadedTransmit;

    /// <param name="mac">Our hardware address.</param>
    /// <param name="mtu">The link MTU (largest IPv4 packet), 68..65535.</param>
    /// <param name="transmit">Sends a frame.</param>
    /// <param name="random">Fills a span with random bytes (IP identification, ephemeral ports).</param>
    /// <param name="counters">Where packets and drops are counted.</param>
    /// <param name="offloads">What the link does for us (partial checksums, TCP segmentation).</param>
    /// <param name="offloadedTransmit">Sends a frame with offload requests; required with <paramref name="offloads"/>.</param>
    public Ipv4Interface(MacAddress mac, int mtu, FrameTransmitter transmit, Action<Span<byte>> random, StackCounters counters,
        Netif.LinkOffloads offloads = Netif.LinkOffloads.None, OffloadedFrameTransmitter? offloadedTransmit = null)
    {
        if (offloads != Netif.LinkOffloads.None && offloadedTransmit is null)
            throw new ArgumentNullException(nameof(offloadedTransmit), "a link with offloads needs an offloaded transmit");
        Offloads = offloadedTransmit is null ? Netif.LinkOffloads.None : offloads;
        _offloadedTransmit = offloadedTransmit;
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 68);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mtu, Ipv4Header.MaxTotalLength);
        Mac = mac;
        Mtu = mtu;
        _transmit = transmit;
        _random = random;
        Counters = counters;
        // With segmentation offload a TCP segment leaves as one frame of up to 64 KiB.
        _frame = new byte[EthernetHeader.Length + ((Offloads & Netif.LinkOffloads.TcpSegmentation) != 0 ? Ipv4Header.MaxTotalLength : mtu)];
        Span<byte> id = stackalloc byte[2];
        random(id);
        _nextIdentification = (ushort)(id[0] << 8 | id[1]);
    }

    /// <summary>Our hardware address.</summary>
    public MacAddress Mac { get; }

    /// <inheritdoc/>
    public int Mtu { get; }

    /// <inheritdoc/>
    public Netif.LinkOffloads Offloads { get; }

    /// <summary>Packet and drop counts.</summary>
    public StackCounters Counters { get; }

    /// <summary>Current address configuration, or null.</summary>
    public Ipv4Settings? Settings { get; private set; }

    /// <inheritdoc/>
    public Ipv4Address? LocalAddress => Settings?.Address;

    /// <summary>TCP, when plugged in.</summary>
    public ITcpTransport? Tcp { get; set; }

    /// <summary>True while packets wait for ARP resolution.</summary>
    public bool AwaitingResolution => _arp.HasPending;

    /// <summary>Neighbour entries held (for limit checks).</summary>
    public int NeighbourCount => _arp.Count;

    /// <summary>Datagrams being reassembled (for limit checks).</summary>
    public int ReassembliesInProgress => _reassembler.InProgress;

    /// <summary>Address conflicts seen: ARP from another host claiming our address (RFC 5227 §2.4).</summary>
    public int AddressConflicts { get; private set; }

    /// <summary>
    /// Applies an address configuration (static or from DHCP) and announces it with an ARP probe and a
    /// gratuitous ARP announcement (RFC 5227 §2.1.1 and §2.3), so neighbours refresh stale caches.
    /// </summary>
    public void Configure(Ipv4Settings? settings, TimeSpan now)
    {
        if (settings == Settings)
            return;
        Settings = settings;
        _arp.Clear();
        if (settings is null)
            return;
        SendArp(ArpOperation.Request, MacAddress.Broadcast, Ipv4Address.Any, MacAddress.Zero, settings.Address);
        SendArp(ArpOperation.Request, MacAddress.Broadcast, settings.Address, MacAddress.Zero, settings.Address);
    }

    /// <summary>Called when another host shows it uses the address being probed (RFC 5227 §2.1.1).</summary>
    public Action<Ipv4Address>? ProbeConflict { get; set; }

    private Ipv4Address? _probing;

    /// <summary>
    /// Sends an ARP probe for <paramref name="address"/> (sender 0.0.0.0, RFC 5227 §2.1.1) and watches for
    /// conflicting ARP until called with null.
    /// </summary>
    public void Probe(Ipv4Address? address)
    {
        _probing = address;
        if (address is { } a)
            SendArp(ArpOperation.Request, MacAddress.Broadcast, Ipv4Address.Any, MacAddress.Zero, a);
    }

    /// <summary>Processes one inbound Ethernet frame.</summary>
    public void Receive(ReadOnlySpan<byte> frame, TimeSpan now) => Receive(frame, checksumTrusted: false, now);

    /// <summary>
    /// Processes one inbound Ethernet frame; with <paramref name="checksumTrusted"/> (the link's
    /// <see cref="Netif.FrameOffload.ChecksumTrusted"/>) the TCP/UDP checksum of an unfragmented
    /// datagram is not verified.
    /// </summary>
    public void Receive(ReadOnlySpan<byte> frame, bool checksumTrusted, TimeSpan now)
    {
        Counters.CountIn();
        if (!EthernetHeader.TryParse(frame, out var eth))
        {
            Counters.CountDrop(DropReason.Truncated);
            return;
        }
        if (eth.Destination != Mac && !eth.Destination.IsBroadcast && !eth.Destination.IsMulticast)
        {
            Counters.CountDrop(DropReason.NotForUs);
            return;
        }
        var payload = frame[EthernetHeader.Length..];
        switch (eth.EtherType)
        {
            case (ushort)EtherType.Arp:
                ReceiveArp(payload, now);
                break;
            case (ushort)EtherType.Ipv4:
                ReceiveIpv4(payload, eth.Destination, checksumTrusted, now);
                break;
            default:
                Counters.CountDrop(DropReason.Unsupported);
                break;
        }
    }

    /// <summary>Runs every timer that is due.</summary>
    public void Poll(TimeSpan now)
    {
        DeliverLoopback(now);
        // Only when due: the callbacks capture `now`, and a poll runs after every batch of frames.
        if (_arp.NextDeadline() <= now)
            PollArp(now);
        if (_reassembler.NextDeadline() <= now)
            PollReassembly(now);
        if (Tcp is { } tcp && tcp.NextDeadline <= now)
            tcp.Poll(now);
    }

    private void PollArp(TimeSpan now) =>
        _arp.Poll(now,
            address => SendArp(ArpOperation.Request, MacAddress.Broadcast, Settings?.Address ?? Ipv4Address.Any, MacAddress.Zero, address),
            (_, pending) =>
            {
                foreach (var packet in pending)
                {
                    Counters.CountDrop(DropReason.Unresolved);
                    ReportHostUnreachable(packet, now);
                }
            });

    private void PollReassembly(TimeSpan now)
    {
        for (int expired = _reassembler.Poll(now, quote => SendReassemblyTimeExceeded(quote, now)); expired > 0; expired--)
            Counters.CountDrop(DropReason.ReassemblyLimit);
    }

    /// <summary>The earliest time <see cref="Poll"/> has work, or <see cref="TimeSpan.MaxValue"/>.</summary>
    public TimeSpan NextDeadline()
    {
        if (_loopback.Count > 0)
            return TimeSpan.Zero;
        var next = _arp.NextDeadline();
        var reassembly = _reassembler.NextDeadline();
        if (reassembly < next)
            next = reassembly;
        if (Tcp is { } tcp && tcp.NextDeadline < next)
            next = tcp.NextDeadline;
        return next;
    }

    // RFC 826 "Packet Reception", with the RFC 5227 §2.4 conflict check.
    private void ReceiveArp(ReadOnlySpan<byte> payload, TimeSpan now)
    {
        if (!ArpPacket.TryParse(payload, out var arp, out var reason))
        {
            Counters.CountDrop(reason);
            return;
        }
        if (arp.SenderHardware.IsMulticast || arp.SenderProtocol.IsBroadcast || arp.SenderProtocol.IsMulticast)
        {
            Counters.CountDrop(DropReason.Malformed);
            return;
        }
        // RFC 5227 §2.1.1: while probing, any ARP from another host with the probed address as sender,
        // or another host's probe for it, is a conflict.
        if (_probing is { } probed && arp.SenderHardware != Mac
            && (arp.SenderProtocol == probed || (arp.SenderProtocol.IsAny && arp.TargetProtocol == probed)))
        {
            ProbeConflict?.Invoke(probed);
        }
        var us = Settings?.Address;
        if (us is { } own && arp.SenderProtocol == own && arp.SenderHardware != Mac)
        {
            AddressConflicts++;
            Counters.CountDrop(DropReason.Malformed);
            return;
        }
        bool forUs = us is { } address && arp.TargetProtocol == address;
        if (!arp.SenderProtocol.IsAny)
        {
            var pending = _arp.Learn(arp.SenderProtocol, arp.SenderHardware, now, create: forUs);
            if (pending is not null)
                foreach (var packet in pending)
                    TransmitIpv4(arp.SenderHardware, packet);
        }
        if (!forUs)
            return;
        if (arp.Operation == ArpOperation.Request)
            SendArp(ArpOperation.Reply, arp.SenderHardware, us!.Value, arp.SenderHardware, arp.SenderProtocol);
    }

    private void SendArp(ArpOperation op, MacAddress ethDestination, Ipv4Address senderIp, MacAddress targetMac, Ipv4Address targetIp)
    {
        var frame = _frame.AsSpan(0, EthernetHeader.Length + ArpPacket.Length);
        new EthernetHeader(ethDestination, Mac, (ushort)EtherType.Arp).Emit(frame);
        new ArpPacket(op, Mac, senderIp, targetMac, targetIp).Emit(frame[EthernetHeader.Length..]);
        Transmit(frame);
    }

    private void Transmit(ReadOnlySpan<byte> frame)
    {
        Counters.CountOut();
        _transmit(frame);
    }
}
