using System.Buffers.Binary;
using Apps.Stack.Ip;
using Apps.Stack.Netif;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests;

/// <summary>
/// Drives an <see cref="Ipv4Interface"/> directly (no loop, no threads): frames in, the frames it
/// transmits collected, time set by the test. Also builds frames as a peer on the link would.
/// </summary>
internal sealed class InterfaceHarness
{
    public static readonly MacAddress OurMac = MacAddress.Parse("02:00:00:00:00:01");
    public static readonly MacAddress PeerMac = MacAddress.Parse("02:00:00:00:00:02");
    public static readonly Ipv4Address Us = Ipv4Address.Parse("10.0.0.1");
    public static readonly Ipv4Address Peer = Ipv4Address.Parse("10.0.0.2");

    private readonly Random _random = new(5);
    private ushort _id = 100;

    public InterfaceHarness(int mtu = 1500, bool configure = true, LinkOffloads offloads = LinkOffloads.None)
    {
        Interface = new Ipv4Interface(OurMac, mtu, frame => Sent.Add(frame.ToArray()), b => _random.NextBytes(b), Counters, offloads,
            offloads == LinkOffloads.None ? null : (ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload, in FrameOffload offload) =>
            {
                Sent.Add([.. headers, .. payload]);
                GatheredPayloads.Add(payload.ToArray());
                Offloads.Add(offload);
            });
        if (configure)
        {
            Interface.Configure(new Ipv4Settings(Us, 24, Ipv4Address.Parse("10.0.0.254")), Now);
            Sent.Clear();
        }
    }

    public StackCounters Counters { get; } = new();
    public Ipv4Interface Interface { get; }
    public List<byte[]> Sent { get; } = [];

    /// <summary>For frames sent with offload requests: the payload part handed to the link apart from the headers.</summary>
    public List<byte[]> GatheredPayloads { get; } = [];

    /// <summary>The offload requests of frames sent with them (a link with offloads only).</summary>
    public List<FrameOffload> Offloads { get; } = [];
    public TimeSpan Now { get; set; }

    public void Receive(byte[] frame, bool checksumTrusted = false) => Interface.Receive(frame, checksumTrusted, Now);

    public void Advance(TimeSpan by)
    {
        Now += by;
        if (Interface.NextDeadline() <= Now)
            Interface.Poll(Now);
    }

    /// <summary>Teaches the interface the peer's MAC the RFC 826 way (a request from the peer for us).</summary>
    public void LearnPeer()
    {
        Receive(Arp(ArpOperation.Request, PeerMac, Peer, MacAddress.Zero, Us, MacAddress.Broadcast));
        Sent.Clear();
    }

    public static byte[] Arp(ArpOperation op, MacAddress sha, Ipv4Address spa, MacAddress tha, Ipv4Address tpa, MacAddress ethDst)
    {
        var frame = new byte[EthernetHeader.Length + ArpPacket.Length];
        new EthernetHeader(ethDst, sha, (ushort)EtherType.Arp).Emit(frame);
        new ArpPacket(op, sha, spa, tha, tpa).Emit(frame.AsSpan(EthernetHeader.Length));
        return frame;
    }

    /// <summary>An IPv4 frame from the peer to us (or <paramref name="destination"/>).</summary>
    public byte[] Ip(byte protocol, ReadOnlySpan<byte> payload, Ipv4Address? destination = null, Ipv4Address? source = null,
        bool moreFragments = false, int fragmentOffset = 0, ushort? id = null, MacAddress? ethDestination = null)
    {
        var frame = new byte[EthernetHeader.Length + Ipv4Header.MinLength + payload.Length];
        new EthernetHeader(ethDestination ?? OurMac, PeerMac, (ushort)EtherType.Ipv4).Emit(frame);
        new Ipv4Header(0, (ushort)(Ipv4Header.MinLength + payload.Length), id ?? _id++, false, moreFragments, fragmentOffset, 64, protocol,
            source ?? Peer, destination ?? Us).Emit(frame.AsSpan(EthernetHeader.Length));
        payload.CopyTo(frame.AsSpan(EthernetHeader.Length + Ipv4Header.MinLength));
        return frame;
    }

    public byte[] Udp(ushort sourcePort, ushort destinationPort, ReadOnlySpan<byte> data, Ipv4Address? destination = null)
    {
        var datagram = new byte[UdpHeader.HeaderLength + data.Length];
        data.CopyTo(datagram.AsSpan(UdpHeader.HeaderLength));
        new UdpHeader(sourcePort, destinationPort, (ushort)datagram.Length).Emit(datagram, Peer, destination ?? Us);
        return Ip(IpProtocol.Udp, datagram, destination);
    }

    public byte[] Echo(ushort id, ushort seq, ReadOnlySpan<byte> data, Ipv4Address? destination = null, MacAddress? ethDestination = null)
    {
        var message = new byte[IcmpV4Header.Length + data.Length];
        data.CopyTo(message.AsSpan(IcmpV4Header.Length));
        IcmpV4Header.Echo(IcmpV4Type.EchoRequest, id, seq).Emit(message);
        return Ip(IpProtocol.Icmp, message, destination, ethDestination: ethDestination);
    }

    /// <summary>Parses a frame we sent as IPv4, failing the test when it is not.</summary>
    public static (Ipv4Header Header, byte[] Payload) ParseIp(byte[] frame)
    {
        Assert.True(EthernetHeader.TryParse(frame, out var eth));
        Assert.Equal((ushort)EtherType.Ipv4, eth.EtherType);
        Assert.True(Ipv4Header.TryParse(frame.AsSpan(EthernetHeader.Length), out var ip, out var reason), reason.ToString());
        return (ip, frame.AsSpan(EthernetHeader.Length + ip.HeaderLength, ip.PayloadLength).ToArray());
    }

    public static ushort ReadPort(byte[] udp, int offset) => BinaryPrimitives.ReadUInt16BigEndian(udp.AsSpan(offset));
}
