using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Wire;

public class DhcpMessageTests
{
    private const int UdpPayloadOffset = EthernetHeader.Length + Ipv4Header.MinLength + UdpHeader.HeaderLength;

    private static byte[] Vector
    {
        get
        {
            var frame = Captures.DhcpOffer;
            int udpLength = frame[EthernetHeader.Length + Ipv4Header.MinLength + 4] << 8 | frame[EthernetHeader.Length + Ipv4Header.MinLength + 5];
            return frame[UdpPayloadOffset..(UdpPayloadOffset + udpLength - 8)];
        }
    }

    private static bool Parse(ReadOnlySpan<byte> d, out DhcpMessage m, out DropReason r) => DhcpMessage.TryParse(d, out m, out r);

    [Fact]
    public void Deconstruct_a_dnsmasq_offer()
    {
        Assert.True(Parse(Vector, out var m, out var reason), reason.ToString());
        Assert.Equal(2, m.Op);
        Assert.Equal(DhcpMessageType.Offer, m.MessageType);
        Assert.Equal(Ipv4Address.Parse("10.77.0.55"), m.YourAddress);
        Assert.Equal(Ipv4Address.Parse("10.77.0.1"), m.ServerIdentifier);
        Assert.Equal(Ipv4Address.Parse("10.77.0.1"), m.Router);
        Assert.Equal(Ipv4Address.Parse("255.255.255.0"), m.SubnetMask);
        Assert.Equal(600u, m.LeaseSeconds);
        Assert.Equal(300u, m.RenewalSeconds);
        Assert.Equal(525u, m.RebindingSeconds);
        Assert.True(m.Broadcast);
    }

    [Fact]
    public void Construct_a_discover_that_parses_back()
    {
        var discover = new DhcpMessage
        {
            Op = 1, TransactionId = 0x01020304, Broadcast = true, ClientHardware = MacAddress.Parse("02:00:00:00:00:01"),
            MessageType = DhcpMessageType.Discover, HostName = "appliance", ParameterRequestList = [1, 3, 6],
        };
        var bytes = discover.ToArray();
        Assert.Equal(discover.BufferLength, bytes.Length);
        Assert.Equal(0x63, bytes[236]);
        Assert.True(Parse(bytes, out var back, out _));
        Assert.Equal(discover.TransactionId, back.TransactionId);
        Assert.Equal("appliance", back.HostName);
        Assert.Equal(new byte[] { 1, 3, 6 }, back.ParameterRequestList);
    }

    [Fact]
    public void Truncated()
    {
        Assert.False(Parse(Vector.AsSpan(0, 239), out _, out var reason));
        Assert.Equal(DropReason.Truncated, reason);
    }

    [Fact]
    public void Parse_three_ways()
    {
        var v = Vector;
        Assert.True(Parse(v, out var expected, out _));
        int end = Array.LastIndexOf(v, (byte)255) + 1; // the options end marker; padding may follow
        for (int n = 0; n < end; n++)
            Assert.False(Parse(v.AsSpan(0, n), out _, out _), $"{n}-byte prefix accepted");
        var trailing = v.Concat(new byte[] { 1, 2, 3 }).ToArray();
        Assert.True(Parse(trailing, out var withTrailer, out _));
        Assert.Equal(expected.YourAddress, withTrailer.YourAddress);
        Assert.Equal(expected.LeaseSeconds, withTrailer.LeaseSeconds);
    }

    [Fact]
    public void Emit_round_trips_every_option()
    {
        var ack = new DhcpMessage
        {
            Op = 2, TransactionId = 7, ClientHardware = MacAddress.Parse("02:00:00:00:00:01"), YourAddress = Ipv4Address.Parse("10.0.0.5"),
            MessageType = DhcpMessageType.Ack, ServerIdentifier = Ipv4Address.Parse("10.0.0.1"), LeaseSeconds = 3600, RenewalSeconds = 1800,
            RebindingSeconds = 3150, SubnetMask = Ipv4Address.Parse("255.255.255.0"), Router = Ipv4Address.Parse("10.0.0.1"),
            DnsServers = [Ipv4Address.Parse("10.0.0.53"), Ipv4Address.Parse("10.0.0.54")], RequestedAddress = Ipv4Address.Parse("10.0.0.5"),
        };
        Assert.True(Parse(ack.ToArray(), out var back, out _));
        Assert.Equal(ack.DnsServers, back.DnsServers);
        Assert.Equal(ack with { DnsServers = back.DnsServers }, back);
    }

    [Fact]
    public void Option_running_past_the_end_is_refused()
    {
        var v = Vector.AsSpan(0, DhcpMessage.FixedLength + 3).ToArray().Concat(new byte[] { 51, 200, 0, 0 }).ToArray();
        Assert.False(Parse(v, out _, out var reason));
        Assert.Equal(DropReason.Truncated, reason);
    }

    [Fact]
    public void Missing_magic_cookie_or_end_option_is_malformed()
    {
        var v = Vector;
        v[236] = 0;
        Assert.False(Parse(v, out _, out var reason));
        Assert.Equal(DropReason.Malformed, reason);
        var noEnd = Vector.AsSpan(0, DhcpMessage.FixedLength + 3).ToArray();
        Assert.False(Parse(noEnd, out _, out reason));
        Assert.Equal(DropReason.Malformed, reason);
    }
}
