using Apps.Stack.Tests.Wire;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.InterfaceHarness;

namespace Apps.Stack.Tests.Ip;

/// <summary>Broken and hostile frames are dropped and counted, never thrown, never answered.</summary>
public class HostileInputTests
{
    private static InterfaceHarness Harness()
    {
        var h = new InterfaceHarness();
        h.LearnPeer();
        return h;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(13)]
    public void Runt_frames_are_truncated(int length)
    {
        var h = Harness();
        h.Receive(new byte[length]);
        Assert.Equal(1, h.Counters.Drops(DropReason.Truncated));
    }

    [Fact]
    public void Frame_for_another_mac_is_not_for_us()
    {
        var h = Harness();
        h.Receive(h.Echo(1, 1, [], ethDestination: MacAddress.Parse("02:99:99:99:99:99")));
        Assert.Equal(1, h.Counters.Drops(DropReason.NotForUs));
        Assert.Empty(h.Sent);
    }

    [Fact]
    public void Unknown_ethertype_is_unsupported()
    {
        var h = Harness();
        var frame = h.Echo(1, 1, []);
        frame[12] = 0x86; frame[13] = 0xDD; // IPv6
        h.Receive(frame);
        Assert.Equal(1, h.Counters.Drops(DropReason.Unsupported));
    }

    [Fact]
    public void Bad_ip_header_checksum_is_dropped()
    {
        var h = Harness();
        var frame = h.Echo(1, 1, []);
        frame[EthernetHeader.Length + 10] ^= 0xFF;
        h.Receive(frame);
        Assert.Equal(1, h.Counters.Drops(DropReason.BadChecksum));
        Assert.Empty(h.Sent);
    }

    [Fact]
    public void Bad_icmp_checksum_is_dropped()
    {
        var h = Harness();
        var frame = h.Echo(1, 1, "abc"u8);
        frame[^1] ^= 0xFF;
        h.Receive(frame);
        Assert.Equal(1, h.Counters.Drops(DropReason.BadChecksum));
        Assert.Empty(h.Sent);
    }

    [Fact]
    public void Bad_udp_checksum_is_dropped_without_port_unreachable()
    {
        var h = Harness();
        var frame = h.Udp(1, 2, "abc"u8);
        frame[^1] ^= 0xFF;
        h.Receive(frame);
        Assert.Equal(1, h.Counters.Drops(DropReason.BadChecksum));
        Assert.Empty(h.Sent);
    }

    [Fact]
    public void Udp_length_beyond_the_ip_payload_is_truncated()
    {
        var h = Harness();
        var frame = h.Udp(1, 2, "abc"u8);
        frame[EthernetHeader.Length + 20 + 5] = 200;
        h.Receive(frame);
        Assert.Equal(1, h.Counters.Drops(DropReason.Truncated));
    }

    [Fact]
    public void Ip_total_length_beyond_the_frame_is_truncated()
    {
        var h = Harness();
        var frame = h.Echo(1, 1, "abc"u8)[..^2];
        h.Receive(frame);
        Assert.Equal(1, h.Counters.Drops(DropReason.Truncated));
    }

    [Fact]
    public void Broadcast_source_address_is_malformed()
    {
        var h = Harness();
        h.Receive(h.Ip(IpProtocol.Icmp, new byte[8], source: Ipv4Address.Broadcast));
        Assert.Equal(1, h.Counters.Drops(DropReason.Malformed));
    }

    [Fact]
    public void Truncated_quoted_header_in_icmp_error_is_dropped()
    {
        var h = Harness();
        var error = new byte[8 + 10];
        new IcmpV4Header(IcmpV4Type.DestinationUnreachable, 3, 0).Emit(error);
        h.Receive(h.Ip(IpProtocol.Icmp, error));
        Assert.Equal(1, h.Counters.Drops(DropReason.Truncated));
    }

    [Fact]
    public void Ethernet_padding_after_the_ip_packet_is_ignored()
    {
        var h = Harness();
        var frame = h.Echo(1, 1, []).Concat(new byte[18]).ToArray(); // padded to the 60-byte minimum
        h.Receive(frame);
        Assert.Single(h.Sent);
        Assert.Equal(0, h.Counters.TotalDrops);
    }

    // Invariant: whatever arrives, Receive returns normally and every frame is either processed or
    // counted once as a drop. Seeds from real captures, mutated at random, plus pure noise.
    [Fact]
    public void Thousands_of_mutated_and_random_frames_never_throw()
    {
        var h = Harness();
        var random = new Random(1234);
        byte[][] seeds = [Captures.ArpRequest, Captures.IcmpEchoRequest, Captures.UdpDatagram, Captures.DhcpOffer, h.Echo(1, 1, new byte[100])];
        for (int i = 0; i < 20_000; i++)
        {
            byte[] frame;
            if (i % 5 == 0)
            {
                frame = new byte[random.Next(0, 200)];
                random.NextBytes(frame);
            }
            else
            {
                frame = (byte[])seeds[random.Next(seeds.Length)].Clone();
                frame.AsSpan(0, 6).Clear();
                OurMac.Write(frame);
                for (int flips = random.Next(1, 4); flips > 0; flips--)
                    frame[random.Next(6, frame.Length)] = (byte)random.Next(256);
                if (random.Next(4) == 0)
                    frame = frame[..random.Next(frame.Length)];
            }
            h.Receive(frame);
            h.Sent.Clear();
        }
        Assert.Equal(20_000 + 1, h.Counters.PacketsIn);
        Assert.True(h.Counters.TotalDrops > 15_000, h.Counters.ToString());
    }
}
