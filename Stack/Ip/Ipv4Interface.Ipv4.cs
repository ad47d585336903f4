namespace Apps.Stack.Ip;

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apps.Stack.Wire;

// IPv4 input (RFC 791, RFC 1122 §3.2.1) and output: routing, ARP resolution, fragmentation.
internal sealed partial class Ipv4Interface
{
    private void ReceiveIpv4(ReadOnlySpan<byte> packet, MacAddress linkDestination, bool checksumTrusted, TimeSpan now)
    {
        if (!Ipv4Header.TryParse(packet, out var ip, out var reason))
        {
            Counters.CountDrop(reason);
            return;
        }
        // RFC 1122 §3.2.1.3: a source that is broadcast or multicast is invalid and silently discarded.
        if (ip.Source.IsBroadcast || ip.Source.IsMulticast)
        {
            Counters.CountDrop(DropReason.Malformed);
            return;
        }
        bool broadcast = ip.Destination.IsBroadcast || (Settings is { } s && ip.Destination == s.SubnetBroadcast);
        bool forUs = broadcast || (Settings is { } own && ip.Destination == own.Address);
        // While unconfigured we accept UDP to any address: a DHCP server may unicast the offer to the
        // address it offers (RFC 2131 §4.1) before we own it.
        if (!forUs && !(Settings is null && ip.Protocol == IpProtocol.Udp && !linkDestination.IsMulticast))
        {
            Counters.CountDrop(DropReason.NotForUs);
            return;
        }
        var payload = packet.Slice(ip.HeaderLength, ip.PayloadLength);
        if (ip.IsFragment)
        {
            long evicted = _reassembler.Evicted;
            reason = _reassembler.Add(ip, packet[..ip.HeaderLength], payload, now, out var whole, out var data);
            if (_reassembler.Evicted != evicted)
                Counters.CountDrop(DropReason.ReassemblyLimit);
            if (reason != DropReason.None)
            {
                Counters.CountDrop(reason);
                return;
            }
            if (data.IsEmpty)
                return;
            // The quote for ICMP errors: this header made whole again (RFC 792 quotes the datagram's
            // header and its first 8 data bytes).
            Span<byte> quote = stackalloc byte[ip.HeaderLength + 8];
            packet[..ip.HeaderLength].CopyTo(quote);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(quote[2..], whole.TotalLength);
            quote[6] = 0;
            quote[7] = 0;
            quote[10] = 0;
            quote[11] = 0;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(quote[10..], InternetChecksum.Compute(quote[..ip.HeaderLength]));
            int quoted = Math.Min(8, data.Length);
            data.Span[..quoted].CopyTo(quote[ip.HeaderLength..]);
            // A reassembled datagram's checksum is always verified: offloads never apply to fragments.
            Deliver(whole, data.Span, quote[..(ip.HeaderLength + quoted)], broadcast, checksumTrusted: false, now);
            return;
        }
        Deliver(ip, payload, packet, broadcast, checksumTrusted, now);
    }

    // Hands a complete datagram to its protocol. `original` is the received header (+ data when not
    // reassembled), quoted in ICMP errors. `checksumTrusted`: the link vouched for the TCP/UDP checksum.
    private void Deliver(in Ipv4Header ip, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> original, bool broadcast, bool checksumTrusted, TimeSpan now)
    {
        switch (ip.Protocol)
        {
            case IpProtocol.Icmp:
                ReceiveIcmp(ip, payload, broadcast, now);
                break;
            case IpProtocol.Udp:
                ReceiveUdp(ip, payload, original, broadcast, checksumTrusted, now);
                break;
            case IpProtocol.Tcp when Tcp is not null && !broadcast:
                if (payload.Length < 20 || (!checksumTrusted && InternetChecksum.Fold(InternetChecksum.Accumulate(
                        InternetChecksum.PseudoHeader(ip.Source, ip.Destination, IpProtocol.Tcp, (ushort)payload.Length), payload)) != 0))
                {
                    Counters.CountDrop(payload.Length < 20 ? DropReason.Truncated : DropReason.BadChecksum);
                    return;
                }
                Tcp.OnSegment(ip.Source, ip.Destination, payload, now);
                break;
            default:
                Counters.CountDrop(DropReason.Unsupported);
                // RFC 1122 §3.2.2.1: protocol unreachable for a transport we do not have.
                if (!broadcast)
                    SendDestinationUnreachable(ip, original, IcmpV4UnreachableCode.Protocol, now);
                break;
        }
    }

    /// <inheritdoc/>
    public Span<byte> PayloadBuffer => _frame.AsSpan(EthernetHeader.Length + Ipv4Header.MinLength);

    /// <inheritdoc/>
    public DropReason SendTcpPartial(Ipv4Address destination, Span<byte> segment, int segmentSize, TimeSpan now)
    {
        int headerLength = (segment[12] >> 4) * 4; // the data offset of a header TCP built
        return SendTcpPartial(destination, segment[..headerLength], segment[headerLength..], segmentSize, now);
    }

    /// <inheritdoc/>
    public DropReason SendTcpPartial(Ipv4Address destination, Span<byte> header, ReadOnlySpan<byte> data, int segmentSize, TimeSpan now)
    {
        int length = header.Length + data.Length;
        if (length > Ipv4Header.MaxTotalLength - Ipv4Header.MinLength)
            return DropReason.TooBig;
        bool segmented = data.Length > segmentSize && segmentSize > 0;
        var source = Settings?.Address ?? Ipv4Address.Any;
        bool direct = (Offloads & Netif.LinkOffloads.Checksum) != 0
            && (!segmented || (Offloads & Netif.LinkOffloads.TcpSegmentation) != 0)
            && (segmented || Ipv4Header.MinLength + length <= Mtu)
            && !(Settings is { } own && (destination == own.Address || destination.IsLoopback));
        MacAddress link = default;
        if (!direct || !TryResolveNow(destination, now, out link))
        {
            // Loopback, a link without the offload, or a next hop still being resolved: join the segment,
            // finish the checksum here and take the ordinary path (which may fragment or queue behind ARP).
            var segment = length <= PayloadBuffer.Length ? PayloadBuffer[..length] : new byte[length];
            PlaceAt(header, segment);
            PlaceAt(data, segment[header.Length..]);
            InternetChecksum.CompletePartial(segment, VirtioNetHeader.TcpChecksumOffset);
            return Send(source, destination, IpProtocol.Tcp, segment, now);
        }
        var ipHeader = new Ipv4Header(0, (ushort)(Ipv4Header.MinLength + length), _nextIdentification, DontFragment: false, false, 0, DefaultTtl, IpProtocol.Tcp, source, destination);
        // Segments the link cuts take consecutive identifications, as Linux's TSO does.
        _nextIdentification += (ushort)(segmented ? (data.Length + segmentSize - 1) / segmentSize : 1);
        ipHeader.Emit(_frame.AsSpan(EthernetHeader.Length, Ipv4Header.MinLength));
        PlaceAt(header, PayloadBuffer);
        EmitFrameHeader(link);
        const int transportStart = EthernetHeader.Length + Ipv4Header.MinLength;
        var offload = new Netif.FrameOffload
        {
            ChecksumStart = transportStart,
            ChecksumOffset = VirtioNetHeader.TcpChecksumOffset,
            SegmentSize = segmented ? (ushort)segmentSize : (ushort)0,
            HeaderLength = (ushort)(transportStart + header.Length),
        };
        Counters.CountOut();
        // The data goes to the link from where it lies (a TCP send buffer): gathered, not copied here.
        _offloadedTransmit!(_frame.AsSpan(0, transportStart + header.Length), data, offload);
        return DropReason.None;
    }

    // Copies `part` to the start of `destination` unless it is already there (built in place).
    private static void PlaceAt(ReadOnlySpan<byte> part, Span<byte> destination)
    {
        if (!part.IsEmpty && !Unsafe.AreSame(ref MemoryMarshal.GetReference(part), ref MemoryMarshal.GetReference(destination)))
            part.CopyTo(destination);
    }

    /// <inheritdoc/>
    public DropReason Send(Ipv4Address destination, byte protocol, ReadOnlySpan<byte> payload, TimeSpan now) =>
        Send(Settings?.Address ?? Ipv4Address.Any, destination, protocol, payload, now);

    /// <summary>
    /// Sends a datagram from an explicit source (0.0.0.0 is allowed for DHCP, RFC 2131 §4.1). Chooses the
    /// next hop (RFC 1122 §3.3.1.1), fragments above the MTU (RFC 791 §2.3) and queues behind ARP.
    /// </summary>
    public DropReason Send(Ipv4Address source, Ipv4Address destination, byte protocol, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        if (payload.Length > Ipv4Header.MaxTotalLength - Ipv4Header.MinLength)
            return DropReason.TooBig;
        if (Settings is { } own && (destination == own.Address || destination.IsLoopback))
            return SendToSelf(source, destination, protocol, payload);
        if (!TryRoute(destination, out var nextHop, out var linkAddress))
            return DropReason.NoRoute;

        ushort id = _nextIdentification++;
        int maxFragmentPayload = (Mtu - Ipv4Header.MinLength) & ~7;
        int offset = 0;
        do
        {
            int chunk = Ipv4Header.MinLength + payload.Length <= Mtu ? payload.Length : Math.Min(maxFragmentPayload, payload.Length - offset);
            bool more = offset + chunk < payload.Length;
            var header = new Ipv4Header(0, (ushort)(Ipv4Header.MinLength + chunk), id, DontFragment: false, more, offset, DefaultTtl, protocol, source, destination);
            var ipPacket = _frame.AsSpan(EthernetHeader.Length, Ipv4Header.MinLength + chunk);
            header.Emit(ipPacket);
            var data = payload.Slice(offset, chunk);
            var slot = ipPacket[Ipv4Header.MinLength..];
            // A payload built in PayloadBuffer is already where it goes.
            if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(data), ref MemoryMarshal.GetReference(slot)))
                data.CopyTo(slot);
            if (linkAddress is { } mac)
            {
                EmitFrameHeader(mac);
                Transmit(_frame.AsSpan(0, EthernetHeader.Length + ipPacket.Length));
            }
            else if (_arp.TryLookup(nextHop, now, out var resolved))
            {
                EmitFrameHeader(resolved);
                Transmit(_frame.AsSpan(0, EthernetHeader.Length + ipPacket.Length));
            }
            else
            {
                // Queue the IP packet and resolve (RFC 1122 §2.3.2.2); the frame buffer is reused below.
                bool request = _arp.Enqueue(nextHop, ipPacket.ToArray(), now, out bool dropped);
                if (dropped)
                    Counters.CountDrop(DropReason.QueueFull);
                if (request)
                    SendArp(Wire.ArpOperation.Request, MacAddress.Broadcast, source, MacAddress.Zero, nextHop);
            }
            offset += chunk;
        }
        while (offset < payload.Length);
        return DropReason.None;
    }

    // The link address for `destination` if it is known without waiting for ARP.
    private bool TryResolveNow(Ipv4Address destination, TimeSpan now, out MacAddress link)
    {
        link = default;
        if (!TryRoute(destination, out var nextHop, out var linkAddress))
            return false;
        if (linkAddress is { } known)
        {
            link = known;
            return true;
        }
        return _arp.TryLookup(nextHop, now, out link);
    }

    // RFC 1122 §3.3.1: on-link goes direct, off-link to the default gateway. Broadcast and multicast
    // map straight to a link address (RFC 1112 §6.4 for multicast).
    private bool TryRoute(Ipv4Address destination, out Ipv4Address nextHop, out MacAddress? linkAddress)
    {
        nextHop = destination;
        linkAddress = null;
        if (destination.IsBroadcast || (Settings is { } s && destination == s.SubnetBroadcast))
        {
            linkAddress = MacAddress.Broadcast;
            return true;
        }
        if (destination.IsMulticast)
        {
            linkAddress = new MacAddress(0x0100_5E00_0000UL | (destination.Value & 0x7F_FFFF));
            return true;
        }
        if (Settings is not { } settings || destination.IsAny)
            return false;
        if (settings.IsOnLink(destination))
            return true;
        if (settings.Gateway is not { } gateway)
            return false;
        nextHop = gateway;
        return true;
    }

    // RFC 1122 §3.3.4.1 loop-back: a datagram to our own address never touches the link. It is queued
    // and delivered on the next Poll, so a reply it provokes cannot re-enter the send in progress.
    private DropReason SendToSelf(Ipv4Address source, Ipv4Address destination, byte protocol, ReadOnlySpan<byte> payload)
    {
        if (_loopback.Count >= MaxLoopbackQueue)
            return DropReason.QueueFull;
        var packet = new byte[Ipv4Header.MinLength + payload.Length];
        new Ipv4Header(0, (ushort)packet.Length, _nextIdentification++, false, false, 0, DefaultTtl, protocol,
            source.IsAny ? destination : source, destination).Emit(packet);
        payload.CopyTo(packet.AsSpan(Ipv4Header.MinLength));
        _loopback.Enqueue(packet);
        return DropReason.None;
    }

    private void DeliverLoopback(TimeSpan now)
    {
        for (int n = _loopback.Count; n > 0 && _loopback.TryDequeue(out var packet); n--)
        {
            Ipv4Header.TryParse(packet, out var ip, out _);
            Deliver(ip, packet.AsSpan(Ipv4Header.MinLength), packet, broadcast: false, checksumTrusted: false, now);
        }
    }

    private void EmitFrameHeader(MacAddress destination) =>
        new EthernetHeader(destination, Mac, (ushort)EtherType.Ipv4).Emit(_frame);

    // Sends an IP packet that waited for ARP.
    private void TransmitIpv4(MacAddress destination, byte[] ipPacket)
    {
        EmitFrameHeader(destination);
        ipPacket.CopyTo(_frame.AsSpan(EthernetHeader.Length));
        Transmit(_frame.AsSpan(0, EthernetHeader.Length + ipPacket.Length));
    }
}
