using System.Buffers.Binary;
using Apps.Stack.Ip;
using Apps.Stack.Netif;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.InterfaceHarness;

namespace Apps.Stack.Tests.Ip;

/// <summary>
/// The IPv4 layer over a link with checksum and segmentation offloads: TCP segments with partial
/// checksums leave as one frame with the offload request, or get their checksum completed where the
/// link cannot help; inbound, a trusted checksum is skipped only where it may be.
/// </summary>
public class OffloadTests
{
    private const LinkOffloads Both = LinkOffloads.Checksum | LinkOffloads.TcpSegmentation;

    private sealed class RecordingTcp : ITcpTransport
    {
        public IIpv4Output? Output;
        public readonly List<byte[]> Segments = [];
        public void Attach(IIpv4Output output) => Output = output;
        public void OnSegment(Ipv4Address source, Ipv4Address destination, ReadOnlySpan<byte> segment, TimeSpan now) => Segments.Add(segment.ToArray());
        public void OnDestinationUnreachable(Ipv4Address localAddress, Ipv4Address remoteAddress, byte code, ReadOnlySpan<byte> quoted, TimeSpan now) { }
        public void Poll(TimeSpan now) { }
        public TimeSpan NextDeadline => TimeSpan.MaxValue;
    }

    // A TCP segment (20-byte header, data offset 5) from `source` to `destination` with a partial checksum.
    private static byte[] PartialSegment(int dataLength, Ipv4Address source, Ipv4Address destination)
    {
        var s = new byte[20 + dataLength];
        new Random(dataLength).NextBytes(s.AsSpan(20));
        s[0] = 0x30; s[1] = 0x39; s[3] = 0x50; s[12] = 0x50; s[13] = 0x10;
        TcpHeader.WritePartialChecksum(s, source, destination);
        return s;
    }

    [Fact]
    public void A_segment_of_several_mss_leaves_as_one_frame_asking_the_link_to_cut_it()
    {
        var h = new InterfaceHarness(offloads: Both);
        h.LearnPeer();
        var segment = PartialSegment(10 * 1448, Us, Peer);

        Assert.Equal(DropReason.None, h.Interface.SendTcpPartial(Peer, segment.ToArray(), 1448, h.Now));

        var frame = Assert.Single(h.Sent);
        var (ip, payload) = ParseIp(frame);
        Assert.Equal(20 + segment.Length, ip.TotalLength);
        Assert.Equal(segment, payload);
        Assert.Equal(new FrameOffload { ChecksumStart = 34, ChecksumOffset = 16, SegmentSize = 1448, HeaderLength = 54 }, Assert.Single(h.Offloads));
        // What the link does: complete the checksum over the whole segment.
        InternetChecksum.CompletePartial(payload, 16);
        Assert.True(TcpHeader.VerifyChecksum(payload, Us, Peer));
    }

    [Fact]
    public void Data_given_apart_from_its_header_reaches_the_link_apart_too()
    {
        var h = new InterfaceHarness(offloads: Both);
        h.LearnPeer();
        var whole = PartialSegment(10 * 1448, Us, Peer);
        var header = whole[..20];
        var data = whole[20..]; // as it lies in a send buffer

        Assert.Equal(DropReason.None, h.Interface.SendTcpPartial(Peer, header, data, 1448, h.Now));

        Assert.Equal(data, Assert.Single(h.GatheredPayloads)); // not joined to the headers by the IP layer
        var (ip, payload) = ParseIp(Assert.Single(h.Sent));
        Assert.Equal(20 + whole.Length, ip.TotalLength);
        Assert.Equal(whole, payload);
        Assert.Equal(new FrameOffload { ChecksumStart = 34, ChecksumOffset = 16, SegmentSize = 1448, HeaderLength = 54 }, Assert.Single(h.Offloads));
    }

    [Fact]
    public void Data_given_apart_is_joined_and_summed_where_the_link_cannot_help()
    {
        var h = new InterfaceHarness(offloads: Both);
        var whole = PartialSegment(3000, Us, Peer);

        h.Interface.SendTcpPartial(Peer, whole[..20], whole[20..], 1448, h.Now); // waits for ARP
        h.Receive(InterfaceHarness.Arp(ArpOperation.Reply, PeerMac, Peer, OurMac, Us, OurMac));

        var joined = h.Sent.Skip(1).Select(ParseIp).SelectMany(f => f.Payload).ToArray();
        Assert.Equal(whole.Length, joined.Length);
        Assert.Equal(whole[20..], joined[20..]);
        Assert.True(TcpHeader.VerifyChecksum(joined, Us, Peer));
        Assert.Empty(h.GatheredPayloads);
    }

    [Fact]
    public void A_segment_within_the_mtu_asks_only_for_the_checksum()
    {
        var h = new InterfaceHarness(offloads: Both);
        h.LearnPeer();

        h.Interface.SendTcpPartial(Peer, PartialSegment(1000, Us, Peer), 1448, h.Now);

        Assert.Equal(new FrameOffload { ChecksumStart = 34, ChecksumOffset = 16, HeaderLength = 54 }, Assert.Single(h.Offloads));
    }

    [Fact]
    public void A_next_hop_still_in_arp_gets_the_checksum_completed_and_the_segment_fragmented()
    {
        var h = new InterfaceHarness(offloads: Both);
        var segment = PartialSegment(3000, Us, Peer);

        h.Interface.SendTcpPartial(Peer, segment.ToArray(), 1448, h.Now);
        Assert.Empty(h.Offloads); // only the ARP request left
        h.Receive(InterfaceHarness.Arp(ArpOperation.Reply, PeerMac, Peer, OurMac, Us, OurMac));

        var fragments = h.Sent.Skip(1).Select(ParseIp).ToList();
        Assert.Equal(3, fragments.Count);
        Assert.All(fragments, f => Assert.True(f.Header.TotalLength <= 1500));
        Assert.Empty(h.Offloads);
        var whole = fragments.SelectMany(f => f.Payload).ToArray();
        Assert.True(TcpHeader.VerifyChecksum(whole, Us, Peer));
    }

    [Fact]
    public void A_segment_to_our_own_address_is_completed_and_delivered_locally()
    {
        var h = new InterfaceHarness(offloads: Both);
        var tcp = new RecordingTcp();
        h.Interface.Tcp = tcp;

        h.Interface.SendTcpPartial(Us, PartialSegment(5000, Us, Us), 1448, h.Now);
        h.Interface.Poll(h.Now);

        Assert.Empty(h.Sent);
        Assert.True(TcpHeader.VerifyChecksum(Assert.Single(tcp.Segments), Us, Us));
    }

    [Fact]
    public void A_link_without_offloads_gets_complete_checksums()
    {
        var h = new InterfaceHarness();
        h.LearnPeer();

        h.Interface.SendTcpPartial(Peer, PartialSegment(1000, Us, Peer), 1448, h.Now);

        var (_, payload) = ParseIp(Assert.Single(h.Sent));
        Assert.True(TcpHeader.VerifyChecksum(payload, Us, Peer));
    }

    [Fact]
    public void A_trusted_partial_checksum_is_accepted_and_an_untrusted_one_dropped()
    {
        var h = new InterfaceHarness(offloads: Both);
        var tcp = new RecordingTcp();
        h.Interface.Tcp = tcp;
        var frame = h.Ip(IpProtocol.Tcp, PartialSegment(20000, Peer, Us));

        h.Receive(frame, checksumTrusted: true);
        h.Receive(frame);

        Assert.Equal(20020, Assert.Single(tcp.Segments).Length);
        Assert.Equal(1, h.Counters.Drops(DropReason.BadChecksum));
    }

    [Fact]
    public void Trust_never_covers_a_reassembled_datagram_or_the_ip_header()
    {
        var h = new InterfaceHarness(offloads: Both);
        var tcp = new RecordingTcp();
        h.Interface.Tcp = tcp;
        var segment = PartialSegment(1000, Peer, Us);

        h.Receive(h.Ip(IpProtocol.Tcp, segment.AsSpan(0, 512), moreFragments: true, id: 7), checksumTrusted: true);
        h.Receive(h.Ip(IpProtocol.Tcp, segment.AsSpan(512), fragmentOffset: 512, id: 7), checksumTrusted: true);
        var badHeader = h.Ip(IpProtocol.Tcp, segment);
        badHeader[EthernetHeader.Length + 10] ^= 0xFF; // IPv4 header checksum
        h.Receive(badHeader, checksumTrusted: true);

        // Both refused: the reassembled segment's partial TCP checksum, and the corrupt IPv4 header.
        Assert.Empty(tcp.Segments);
        Assert.Equal(2, h.Counters.Drops(DropReason.BadChecksum));
    }

    [Fact]
    public void A_trusted_udp_datagram_skips_the_checksum()
    {
        var h = new InterfaceHarness(offloads: Both);
        var datagram = h.Udp(5000, 9, "hello"u8);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(EthernetHeader.Length + 20 + 6), 0x1234); // a partial sum, say

        h.Receive(datagram);
        long bad = h.Counters.Drops(DropReason.BadChecksum);
        h.Receive(datagram, checksumTrusted: true);

        Assert.Equal(1, bad);
        Assert.Equal(1, h.Counters.Drops(DropReason.BadChecksum)); // the trusted one got past the checksum
        Assert.Equal(2, h.Counters.Drops(DropReason.NoListener) + bad);
    }
}
