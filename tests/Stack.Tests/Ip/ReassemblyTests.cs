using Apps.Stack.Ip;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.InterfaceHarness;

namespace Apps.Stack.Tests.Ip;

/// <summary>Fragment reassembly through the interface: an echo request split by hand, answered once whole.</summary>
public class ReassemblyTests
{
    private static byte[] EchoMessage(int dataLength)
    {
        var message = new byte[IcmpV4Header.Length + dataLength];
        for (int i = 0; i < dataLength; i++)
            message[IcmpV4Header.Length + i] = (byte)(i * 7);
        IcmpV4Header.Echo(IcmpV4Type.EchoRequest, 9, 9).Emit(message);
        return message;
    }

    private static byte[] Fragment(InterfaceHarness h, byte[] message, int offset, int length, bool more, ushort id = 7) =>
        h.Ip(IpProtocol.Icmp, message.AsSpan(offset, length), moreFragments: more, fragmentOffset: offset, id: id);

    private static InterfaceHarness Harness()
    {
        var h = new InterfaceHarness();
        h.LearnPeer();
        return h;
    }

    [Fact]
    public void Fragments_in_any_order_are_reassembled_and_answered()
    {
        var h = Harness();
        var m = EchoMessage(392); // 400 bytes: 200 + 200
        h.Receive(Fragment(h, m, 200, 200, more: false));
        Assert.Empty(h.Sent);
        h.Receive(Fragment(h, m, 0, 200, more: true));

        var (ip, payload) = ParseIp(Assert.Single(h.Sent));
        Assert.Equal(IpProtocol.Icmp, ip.Protocol);
        Assert.Equal(IcmpV4Type.EchoReply, (IcmpV4Type)payload[0]);
        Assert.Equal(m.AsSpan(8).ToArray(), payload.AsSpan(8).ToArray());
    }

    [Fact]
    public void Exact_duplicate_fragment_is_harmless()
    {
        var h = Harness();
        var m = EchoMessage(392);
        h.Receive(Fragment(h, m, 0, 200, more: true));
        h.Receive(Fragment(h, m, 0, 200, more: true));
        h.Receive(Fragment(h, m, 200, 200, more: false));
        Assert.Single(h.Sent);
        Assert.Equal(0, h.Counters.TotalDrops);
    }

    [Fact]
    public void Overlapping_fragment_drops_the_datagram_and_is_counted()
    {
        var h = Harness();
        var m = EchoMessage(392);
        h.Receive(Fragment(h, m, 0, 200, more: true));
        h.Receive(Fragment(h, m, 192, 208, more: false)); // overlaps bytes 192..199
        h.Receive(Fragment(h, m, 200, 200, more: false));  // starts a fresh datagram, never completed

        Assert.Empty(h.Sent);
        Assert.Equal(1, h.Counters.Drops(DropReason.OverlappingFragment));
    }

    [Fact]
    public void Tiny_non_final_fragment_is_refused()
    {
        var h = Harness();
        var m = EchoMessage(392);
        h.Receive(Fragment(h, m, 0, 8, more: true));
        Assert.Equal(1, h.Counters.Drops(DropReason.TinyFragment));
    }

    [Fact]
    public void Non_final_fragment_not_a_multiple_of_8_is_malformed()
    {
        var h = Harness();
        var m = EchoMessage(392);
        h.Receive(Fragment(h, m, 0, 100, more: true));
        Assert.Equal(1, h.Counters.Drops(DropReason.Malformed));
    }

    [Fact]
    public void Incomplete_datagram_times_out_and_is_counted()
    {
        var h = Harness();
        var m = EchoMessage(392);
        h.Receive(Fragment(h, m, 0, 200, more: true));
        h.Advance(Ipv4Reassembler.Timeout + TimeSpan.FromSeconds(1));
        h.Receive(Fragment(h, m, 200, 200, more: false)); // too late: starts a new one

        Assert.Equal(1, h.Counters.Drops(DropReason.ReassemblyLimit));
        // RFC 1122 §3.3.2: the first fragment had come, so the sender hears "time exceeded" (code 1).
        var (ip, payload) = ParseIp(Assert.Single(h.Sent));
        Assert.Equal(Peer, ip.Destination);
        Assert.Equal((byte)IcmpV4Type.TimeExceeded, payload[0]);
        Assert.Equal(1, payload[1]);
        Assert.Equal(7, payload[8 + 4] << 8 | payload[8 + 5]); // quoted identification
    }

    [Fact]
    public void Expired_datagram_without_its_first_fragment_gets_no_icmp()
    {
        var h = Harness();
        var m = EchoMessage(392);
        h.Receive(Fragment(h, m, 200, 200, more: false));
        h.Advance(Ipv4Reassembler.Timeout + TimeSpan.FromSeconds(1));
        Assert.Empty(h.Sent);
        Assert.Equal(1, h.Counters.Drops(DropReason.ReassemblyLimit));
    }

    [Fact]
    public void Datagram_beyond_64_KiB_is_refused()
    {
        var h = Harness();
        var m = EchoMessage(392);
        h.Receive(h.Ip(IpProtocol.Icmp, m.AsSpan(0, 400), moreFragments: false, fragmentOffset: 65528 - 8 * 8, id: 3));
        Assert.Equal(1, h.Counters.Drops(DropReason.ReassemblyLimit));
    }

    [Fact]
    public void Too_many_datagrams_in_progress_evict_the_oldest()
    {
        var h = Harness();
        var m = EchoMessage(392);
        for (int i = 0; i < Ipv4Reassembler.MaxDatagrams + 5; i++)
            h.Receive(Fragment(h, m, 0, 200, more: true, id: (ushort)(1000 + i)));
        Assert.Equal(5, h.Counters.Drops(DropReason.ReassemblyLimit));

        // The newest survive: completing the last one works.
        h.Receive(Fragment(h, m, 200, 200, more: false, id: (ushort)(1000 + Ipv4Reassembler.MaxDatagrams + 4)));
        Assert.Single(h.Sent);
    }

    [Fact]
    public void Large_datagram_is_sent_in_fragments_of_the_mtu()
    {
        var h = new InterfaceHarness(mtu: 576);
        h.LearnPeer();
        h.Interface.SendEchoRequest(Peer, 1, 1, new byte[2000], h.Now);

        Assert.Equal(4, h.Sent.Count); // 2008 bytes in 552-byte pieces
        int expectedOffset = 0;
        foreach (var frame in h.Sent)
        {
            var (ip, payload) = ParseIp(frame);
            Assert.True(ip.TotalLength <= 576);
            Assert.Equal(expectedOffset, ip.FragmentOffset);
            expectedOffset += payload.Length;
            Assert.Equal(expectedOffset < 2008, ip.MoreFragments);
        }
        Assert.Equal(2008, expectedOffset);
    }
}
