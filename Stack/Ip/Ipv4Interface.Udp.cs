namespace Apps.Stack.Ip;

using Apps.Stack.Wire;

/// <summary>What the IP layer delivers to a bound UDP port. Called on the loop thread.</summary>
internal interface IUdpReceiver
{
    /// <summary>A datagram arrived (payload valid only during the call).</summary>
    void OnDatagram(Ipv4Address source, ushort sourcePort, Ipv4Address destination, ReadOnlySpan<byte> payload, TimeSpan now);

    /// <summary>An ICMP destination unreachable came back for a datagram we sent to remote:port.</summary>
    void OnUnreachable(Ipv4Address remote, ushort remotePort, byte code);
}

// UDP (RFC 768, RFC 1122 §4.1): port table, checksums, port unreachable.
internal sealed partial class Ipv4Interface
{
    /// <summary>First port of the dynamic range (RFC 6335 §6) used for ephemeral ports.</summary>
    public const ushort FirstEphemeralPort = 49152;

    private readonly Dictionary<ushort, IUdpReceiver> _udp = [];

    /// <summary>
    /// Binds <paramref name="port"/> (0 picks a random free ephemeral port, RFC 6056 §3.3.1).
    /// Returns the port bound, or 0 when taken or when no port is free.
    /// </summary>
    public ushort BindUdp(ushort port, IUdpReceiver receiver)
    {
        if (port != 0)
            return _udp.TryAdd(port, receiver) ? port : (ushort)0;
        Span<byte> r = stackalloc byte[2];
        _random(r);
        int range = ushort.MaxValue - FirstEphemeralPort + 1;
        int start = (r[0] << 8 | r[1]) % range;
        for (int i = 0; i < range; i++)
        {
            var candidate = (ushort)(FirstEphemeralPort + (start + i) % range);
            if (_udp.TryAdd(candidate, receiver))
                return candidate;
        }
        return 0;
    }

    /// <summary>Releases a bound port.</summary>
    public void UnbindUdp(ushort port) => _udp.Remove(port);

    /// <summary>Sends a UDP datagram from our address (or <paramref name="source"/>, for DHCP).</summary>
    public DropReason SendUdp(ushort sourcePort, Ipv4Address destination, ushort destinationPort, ReadOnlySpan<byte> payload, TimeSpan now, Ipv4Address? source = null)
    {
        if (payload.Length > UdpHeader.MaxPayload)
            return DropReason.TooBig;
        var src = source ?? Settings?.Address ?? Ipv4Address.Any;
        var datagram = Scratch(UdpHeader.HeaderLength + payload.Length);
        payload.CopyTo(datagram[UdpHeader.HeaderLength..]);
        new UdpHeader(sourcePort, destinationPort, (ushort)datagram.Length).Emit(datagram, src, destination);
        return Send(src, destination, IpProtocol.Udp, datagram, now);
    }

    private void ReceiveUdp(in Ipv4Header ip, ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> original, bool broadcast, bool checksumTrusted, TimeSpan now)
    {
        if (!UdpHeader.TryParse(datagram, ip.Source, ip.Destination, out var udp, out var reason, checksumTrusted))
        {
            Counters.CountDrop(reason);
            return;
        }
        var payload = datagram[UdpHeader.HeaderLength..udp.Length];
        if (_udp.TryGetValue(udp.DestinationPort, out var receiver))
        {
            receiver.OnDatagram(ip.Source, udp.SourcePort, ip.Destination, payload, now);
            return;
        }
        Counters.CountDrop(DropReason.NoListener);
        // RFC 1122 §4.1.3.1: port unreachable, but never for broadcast or multicast (§3.2.2).
        if (!broadcast && Settings is { } s && ip.Destination == s.Address)
            SendDestinationUnreachable(ip, original, IcmpV4UnreachableCode.Port, now);
    }
}
