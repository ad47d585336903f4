using Apps.Stack.Ip;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.InterfaceHarness;

namespace Apps.Stack.Tests.Ip;

public class IcmpUdpUnitTests
{
    private sealed class Recorder : IUdpReceiver
    {
        public List<(Ipv4Address Source, ushort Port, byte[] Data)> Datagrams { get; } = [];
        public List<(Ipv4Address Remote, ushort Port, byte Code)> Unreachable { get; } = [];

        public void OnDatagram(Ipv4Address source, ushort sourcePort, Ipv4Address destination, ReadOnlySpan<byte> payload, TimeSpan now) =>
            Datagrams.Add((source, sourcePort, payload.ToArray()));

        public void OnUnreachable(Ipv4Address remote, ushort remotePort, byte code) => Unreachable.Add((remote, remotePort, code));
    }

    private static InterfaceHarness Harness()
    {
        var h = new InterfaceHarness();
        h.LearnPeer();
        return h;
    }

    [Fact]
    public void Echo_request_gets_a_reply_with_the_same_identifier_sequence_and_data()
    {
        var h = Harness();
        h.Receive(h.Echo(0x1234, 7, "ping data"u8));

        var (ip, payload) = ParseIp(Assert.Single(h.Sent));
        Assert.Equal(Peer, ip.Destination);
        Assert.Equal(Us, ip.Source);
        Assert.True(IcmpV4Header.TryParse(payload, out var icmp, out _));
        Assert.Equal(IcmpV4Header.Echo(IcmpV4Type.EchoReply, 0x1234, 7), icmp);
        Assert.Equal("ping data"u8.ToArray(), payload[8..]);
    }

    [Fact]
    public void Broadcast_echo_request_is_ignored()
    {
        var h = Harness();
        h.Receive(h.Echo(1, 1, [], destination: Ipv4Address.Parse("10.0.0.255"), ethDestination: MacAddress.Broadcast));
        Assert.Empty(h.Sent);
    }

    [Fact]
    public void Udp_datagram_reaches_the_bound_port()
    {
        var h = Harness();
        var socket = new Recorder();
        Assert.Equal(5000, h.Interface.BindUdp(5000, socket));
        h.Receive(h.Udp(4000, 5000, "hello"u8));

        var d = Assert.Single(socket.Datagrams);
        Assert.Equal((Peer, (ushort)4000), (d.Source, d.Port));
        Assert.Equal("hello"u8.ToArray(), d.Data);
    }

    [Fact]
    public void Binding_a_taken_port_fails_and_port_zero_picks_an_ephemeral_one()
    {
        var h = Harness();
        Assert.Equal(5000, h.Interface.BindUdp(5000, new Recorder()));
        Assert.Equal(0, h.Interface.BindUdp(5000, new Recorder()));
        Assert.InRange(h.Interface.BindUdp(0, new Recorder()), Ipv4Interface.FirstEphemeralPort, ushort.MaxValue);
    }

    [Fact]
    public void Closed_port_answers_port_unreachable_quoting_the_datagram()
    {
        var h = Harness();
        h.Receive(h.Udp(4000, 6000, "x"u8));

        Assert.Equal(1, h.Counters.Drops(DropReason.NoListener));
        var (ip, payload) = ParseIp(Assert.Single(h.Sent));
        Assert.Equal(IpProtocol.Icmp, ip.Protocol);
        Assert.True(IcmpV4Header.TryParse(payload, out var icmp, out _));
        Assert.Equal(IcmpV4Type.DestinationUnreachable, icmp.Type);
        Assert.Equal(IcmpV4UnreachableCode.Port, icmp.Code);
        Assert.Equal(4000, ReadPort(payload, 8 + 20));     // quoted UDP source port
        Assert.Equal(6000, ReadPort(payload, 8 + 22));     // quoted UDP destination port
    }

    [Fact]
    public void Broadcast_to_a_closed_port_gets_no_icmp_error()
    {
        var h = Harness();
        h.Receive(h.Udp(4000, 6000, "x"u8, destination: Ipv4Address.Broadcast));
        Assert.Empty(h.Sent);
    }

    [Fact]
    public void Unknown_protocol_answers_protocol_unreachable()
    {
        var h = Harness();
        h.Receive(h.Ip(47, new byte[12])); // GRE
        var (_, payload) = ParseIp(Assert.Single(h.Sent));
        Assert.Equal((byte)IcmpV4Type.DestinationUnreachable, payload[0]);
        Assert.Equal(IcmpV4UnreachableCode.Protocol, payload[1]);
    }

    [Fact]
    public void Icmp_errors_are_rate_limited()
    {
        var h = Harness();
        for (int i = 0; i < Ipv4Interface.MaxIcmpErrorsPerSecond + 50; i++)
            h.Receive(h.Udp(4000, 6000, "x"u8));
        Assert.Equal(Ipv4Interface.MaxIcmpErrorsPerSecond, h.Sent.Count);
        h.Advance(TimeSpan.FromSeconds(1));
        h.Receive(h.Udp(4000, 6000, "x"u8));
        Assert.Equal(Ipv4Interface.MaxIcmpErrorsPerSecond + 1, h.Sent.Count);
    }

    [Fact]
    public void Port_unreachable_from_the_peer_reaches_the_sending_socket()
    {
        var h = Harness();
        var socket = new Recorder();
        h.Interface.BindUdp(5000, socket);
        h.Interface.SendUdp(5000, Peer, 53, "q"u8, h.Now);
        var (_, sent) = ParseIp(Assert.Single(h.Sent));
        var ourPacket = Assert.Single(h.Sent).AsSpan(EthernetHeader.Length).ToArray();

        var error = new byte[8 + 28];
        ourPacket.AsSpan(0, 28).CopyTo(error.AsSpan(8));
        new IcmpV4Header(IcmpV4Type.DestinationUnreachable, IcmpV4UnreachableCode.Port, 0).Emit(error);
        h.Receive(h.Ip(IpProtocol.Icmp, error));

        Assert.Equal((Peer, (ushort)53, IcmpV4UnreachableCode.Port), Assert.Single(socket.Unreachable));
        Assert.Equal(9, sent.Length);
    }

    [Fact]
    public void Unconfigured_interface_accepts_udp_to_any_address_for_dhcp()
    {
        var h = new InterfaceHarness(configure: false);
        var socket = new Recorder();
        h.Interface.BindUdp(68, socket);
        h.Receive(h.Udp(67, 68, "offer"u8, destination: Ipv4Address.Parse("10.0.0.50")));
        Assert.Single(socket.Datagrams);
    }

    [Fact]
    public void Sending_without_address_or_route_fails_with_no_route()
    {
        var h = new InterfaceHarness(configure: false);
        Assert.Equal(DropReason.NoRoute, h.Interface.SendUdp(1, Peer, 2, "x"u8, h.Now));
        var configured = Harness();
        configured.Interface.Configure(new Ipv4Settings(Us, 24), configured.Now);
        Assert.Equal(DropReason.NoRoute, configured.Interface.SendUdp(1, Ipv4Address.Parse("192.0.2.1"), 2, "x"u8, configured.Now));
    }

    [Fact]
    public void Port_unreachable_for_a_reassembled_datagram_quotes_its_ports()
    {
        var h = Harness();
        var datagram = new byte[8 + 392];
        new UdpHeader(4000, 6000, (ushort)datagram.Length).Emit(datagram, Peer, Us);
        h.Receive(h.Ip(IpProtocol.Udp, datagram.AsSpan(200), moreFragments: false, fragmentOffset: 200, id: 77));
        h.Receive(h.Ip(IpProtocol.Udp, datagram.AsSpan(0, 200), moreFragments: true, fragmentOffset: 0, id: 77));

        var (_, payload) = ParseIp(Assert.Single(h.Sent));
        Assert.Equal((byte)IcmpV4Type.DestinationUnreachable, payload[0]);
        Assert.True(Ipv4Header.TryParse(payload.AsSpan(8, 20).ToArray().Concat(new byte[400]).ToArray(), out var quoted, out var reason), reason.ToString());
        Assert.False(quoted.IsFragment);
        Assert.Equal(4000, ReadPort(payload, 8 + 20));
        Assert.Equal(6000, ReadPort(payload, 8 + 22));
    }
}
