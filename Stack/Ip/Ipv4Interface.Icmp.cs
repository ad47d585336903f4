namespace Apps.Stack.Ip;

using System.Buffers.Binary;
using Apps.Stack.Wire;

// ICMPv4 (RFC 792, RFC 1122 §3.2.2): echo, destination unreachable sent and understood.
internal sealed partial class Ipv4Interface
{
    /// <summary>ICMP errors sent per second at most (RFC 1812 §4.3.2.8 rate limiting).</summary>
    public const int MaxIcmpErrorsPerSecond = 100;

    private byte[]? _scratch;
    private TimeSpan _icmpWindowStart = TimeSpan.FromSeconds(-1);
    private int _icmpErrorsInWindow;

    /// <summary>Called for every echo reply: source, identifier, sequence, data, now.</summary>
    public EchoReplyHandler? EchoReplyReceived { get; set; }

    /// <summary>Receives an echo reply.</summary>
    public delegate void EchoReplyHandler(Ipv4Address source, ushort identifier, ushort sequence, ReadOnlySpan<byte> data, TimeSpan now);

    /// <summary>Echo requests answered.</summary>
    public long EchoRequestsAnswered { get; private set; }

    /// <summary>Sends an ICMP echo request (RFC 792).</summary>
    public DropReason SendEchoRequest(Ipv4Address destination, ushort identifier, ushort sequence, ReadOnlySpan<byte> data, TimeSpan now)
    {
        if (data.Length > Ipv4Header.MaxTotalLength - Ipv4Header.MinLength - IcmpV4Header.Length)
            return DropReason.TooBig;
        var message = Scratch(IcmpV4Header.Length + data.Length);
        data.CopyTo(message[IcmpV4Header.Length..]);
        IcmpV4Header.Echo(IcmpV4Type.EchoRequest, identifier, sequence).Emit(message);
        return Send(destination, IpProtocol.Icmp, message, now);
    }

    private void ReceiveIcmp(in Ipv4Header ip, ReadOnlySpan<byte> message, bool broadcast, TimeSpan now)
    {
        if (!IcmpV4Header.TryParse(message, out var icmp, out var reason))
        {
            Counters.CountDrop(reason);
            return;
        }
        var body = message[IcmpV4Header.Length..];
        switch (icmp.Type)
        {
            case IcmpV4Type.EchoRequest when !broadcast:
                // RFC 1122 §3.2.2.6: the reply carries the request's identifier, sequence and data.
                var reply = Scratch(message.Length);
                body.CopyTo(reply[IcmpV4Header.Length..]);
                (icmp with { Type = IcmpV4Type.EchoReply, Code = 0 }).Emit(reply);
                if (Send(ip.Destination, ip.Source, IpProtocol.Icmp, reply, now) == DropReason.None)
                    EchoRequestsAnswered++;
                break;
            case IcmpV4Type.EchoReply:
                EchoReplyReceived?.Invoke(ip.Source, icmp.Identifier, icmp.SequenceNumber, body, now);
                break;
            case IcmpV4Type.DestinationUnreachable:
                ReceiveUnreachable(icmp.Code, body, now);
                break;
            default:
                // Broadcast echo requests (RFC 1122 §3.2.2.6 MAY ignore) and types we do not act on.
                Counters.CountDrop(DropReason.Unsupported);
                break;
        }
    }

    // RFC 1122 §3.2.2.1: pass the error to the transport named in the quoted header.
    private void ReceiveUnreachable(byte code, ReadOnlySpan<byte> quoted, TimeSpan now)
    {
        if (quoted.Length < Ipv4Header.MinLength + 8)
        {
            Counters.CountDrop(DropReason.Truncated);
            return;
        }
        int headerLength = (quoted[0] & 0x0F) * 4;
        if (quoted[0] >> 4 != 4 || headerLength < Ipv4Header.MinLength || quoted.Length < headerLength + 8)
        {
            Counters.CountDrop(DropReason.Malformed);
            return;
        }
        byte protocol = quoted[9];
        var local = Ipv4Address.Read(quoted[12..]);
        var remote = Ipv4Address.Read(quoted[16..]);
        var transport = quoted[headerLength..];
        if (Settings is not { } s || local != s.Address)
        {
            Counters.CountDrop(DropReason.NotForUs);
            return;
        }
        if (protocol == IpProtocol.Udp)
        {
            ushort localPort = BinaryPrimitives.ReadUInt16BigEndian(transport);
            ushort remotePort = BinaryPrimitives.ReadUInt16BigEndian(transport[2..]);
            if (_udp.TryGetValue(localPort, out var receiver))
                receiver.OnUnreachable(remote, remotePort, code);
        }
        else if (protocol == IpProtocol.Tcp)
        {
            Tcp?.OnDestinationUnreachable(local, remote, code, transport, now);
        }
    }

    // RFC 1122 §2.3.2.2 / §3.2.2.1: when ARP gives up, tell the transport that sent the packet, as a
    // router's host unreachable would (only the first fragment names the ports).
    private void ReportHostUnreachable(byte[] packet, TimeSpan now)
    {
        if (Ipv4Header.TryParse(packet, out var ip, out _) && ip.FragmentOffset == 0 && packet.Length >= ip.HeaderLength + 8)
            ReceiveUnreachable(IcmpV4UnreachableCode.Host, packet, now);
    }

    private void SendDestinationUnreachable(in Ipv4Header ip, ReadOnlySpan<byte> original, byte code, TimeSpan now) =>
        SendIcmpError(IcmpV4Type.DestinationUnreachable, code, ip.Source, ip.Destination, ip.Protocol, ip.FragmentOffset, ip.HeaderLength, original, now);

    // RFC 1122 §3.3.2: time exceeded, code 1 (fragment reassembly time exceeded), when the first
    // fragment had arrived. The quote is the first fragment's header and 8 data bytes.
    private void SendReassemblyTimeExceeded(byte[] quote, TimeSpan now)
    {
        int headerLength = (quote[0] & 0x0F) * 4;
        var source = Ipv4Address.Read(quote.AsSpan(12));
        var destination = Ipv4Address.Read(quote.AsSpan(16));
        if (Settings is not { } s || destination != s.Address)
            return;
        SendIcmpError(IcmpV4Type.TimeExceeded, 1, source, destination, quote[9], 0, headerLength, quote, now);
    }

    // RFC 792 / RFC 1122 §3.2.2: quote the IP header and the first 8 data bytes. Never about an ICMP
    // error, a broadcast, a non-initial fragment or an invalid source (RFC 1122 §3.2.2, last list).
    private void SendIcmpError(IcmpV4Type type, byte code, Ipv4Address source, Ipv4Address destination, byte protocol,
        int fragmentOffset, int headerLength, ReadOnlySpan<byte> original, TimeSpan now)
    {
        if (fragmentOffset != 0 || source.IsAny || source.IsBroadcast || source.IsMulticast || destination.IsMulticast || destination.IsBroadcast)
            return;
        if (protocol == IpProtocol.Icmp && original.Length > headerLength
            && original[headerLength] is not ((byte)IcmpV4Type.EchoRequest or (byte)IcmpV4Type.EchoReply))
            return;
        if (now - _icmpWindowStart >= TimeSpan.FromSeconds(1))
        {
            _icmpWindowStart = now;
            _icmpErrorsInWindow = 0;
        }
        if (++_icmpErrorsInWindow > MaxIcmpErrorsPerSecond)
            return;
        int quotedLength = Math.Min(original.Length, headerLength + 8);
        var message = Scratch(IcmpV4Header.Length + quotedLength);
        original[..quotedLength].CopyTo(message[IcmpV4Header.Length..]);
        new IcmpV4Header(type, code, 0).Emit(message);
        Send(destination, source, IpProtocol.Icmp, message, now);
    }

    private Span<byte> Scratch(int length) => (_scratch ??= new byte[Ipv4Header.MaxTotalLength]).AsSpan(0, length);
}
