using Apps.Stack.Tcp;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.Tcp.TcpHarness;

namespace Apps.Stack.Tests.Tcp;

/// <summary>RFC 7323 (window scale, timestamps, PAWS) and RFC 2018 (SACK) on one connection.</summary>
public class OptionNegotiationTests
{
    [Fact]
    public void Syn_offers_every_enabled_option()
    {
        var h = SynSent(Full);
        h.Advance(TimeSpan.FromSeconds(1));
        var h2 = TcpControlBlock.Connect(Full, new TcpCounters(), Connection, new TcpSeqNumber(1), TimeSpan.FromSeconds(3));
        var sink = new CapturingSink();
        h2.Poll(TimeSpan.FromSeconds(3), sink);
        var o = Assert.Single(sink.Segments).Header.Options;
        Assert.Equal((ushort)1000, o.MaxSegmentSize);
        Assert.Equal((byte)2, o.WindowScale); // 200 000 >> 2 fits 16 bits
        Assert.True(o.SackPermitted);
        Assert.Equal(0u, o.Timestamps!.Value.EchoReply);
    }

    [Fact]
    public void Syn_ack_only_echoes_options_the_peer_offered()
    {
        var h = SynReceived(Full, new TcpOptions { MaxSegmentSize = 1000, SackPermitted = true });
        h.Advance(TimeSpan.FromSeconds(1));
        var resent = h.Sink.Segments;
        var tcb = TcpControlBlock.Accept(Full, new TcpCounters(), Connection, new TcpSeqNumber(LocalIss),
            new TcpHeader(80, 49200, new TcpSeqNumber(RemoteIss), default, TcpFlags.Syn, 8000, new TcpOptions { SackPermitted = true }),
            TimeSpan.Zero);
        var sink = new CapturingSink();
        tcb.Poll(TimeSpan.Zero, sink);
        var o = Assert.Single(sink.Segments).Header.Options;
        Assert.Null(o.WindowScale);
        Assert.Null(o.Timestamps);
        Assert.True(o.SackPermitted);
        Assert.Equal(0, tcb.ReceiveWindowScale);
        Assert.Empty(resent);
    }

    [Fact]
    public void Peer_window_is_scaled_by_its_shift()
    {
        var h = EstablishedWithOptions();
        h.Deliver(h.Segment(window: 1000));
        Assert.Equal(4000, h.Tcb.SendWindow);
    }

    [Fact]
    public void Our_window_field_is_scaled_down_after_the_handshake()
    {
        var h = EstablishedWithOptions();
        var ack = Assert.Single(h.Deliver(h.Segment(TcpFlags.Ack | TcpFlags.Psh), Bytes(1000)).Concat(h.Advance(TimeSpan.FromSeconds(1))));
        Assert.Equal((200_000 - 1000) >> 2, ack.Header.Window);
    }

    [Fact]
    public void Segments_carry_timestamps_echoing_ts_recent()
    {
        var h = EstablishedWithOptions();
        h.Tcb.Send(Bytes(10));
        var seg = Assert.Single(h.Poll());
        Assert.Equal(500u, seg.Header.Options.Timestamps!.Value.EchoReply);
        h.Options = new TcpOptions { Timestamps = new TcpTimestamps(777, seg.Header.Options.Timestamps.Value.Value) };
        h.Deliver(h.Segment(), Bytes(5));
        h.Tcb.Send(Bytes(10));
        var next = h.Poll().Last();
        Assert.Equal(777u, next.Header.Options.Timestamps!.Value.EchoReply);
    }

    [Fact]
    public void Paws_drops_segment_with_old_timestamp_and_acknowledges()
    {
        var h = EstablishedWithOptions();
        h.Options = new TcpOptions { Timestamps = new TcpTimestamps(400, 0) };
        var reply = Assert.Single(h.Deliver(h.Segment(), Bytes(100)));
        Assert.Equal(RemoteIss + 1, reply.Ack);
        Assert.Equal(0, h.Tcb.Available);
        Assert.Equal(1, h.Counters.PawsRejected);
    }

    [Fact]
    public void Segment_without_timestamp_is_dropped_once_negotiated()
    {
        var h = EstablishedWithOptions();
        h.Options = default;
        Assert.Empty(h.Deliver(h.Segment(), Bytes(100)));
        Assert.Equal(0, h.Tcb.Available);
    }

    [Fact]
    public void Rtt_is_sampled_from_echoed_timestamps()
    {
        var h = EstablishedWithOptions();
        h.Tcb.Send(Bytes(10));
        var seg = Assert.Single(h.Poll());
        h.Advance(TimeSpan.FromMilliseconds(30));
        h.Options = new TcpOptions { Timestamps = new TcpTimestamps(600, seg.Header.Options.Timestamps!.Value.Value) };
        h.Deliver(h.Segment());
        Assert.Equal(TimeSpan.FromMilliseconds(30), h.Tcb.SmoothedRtt);
    }

    [Fact]
    public void Sack_blocks_report_out_of_order_data_most_recent_first()
    {
        var h = EstablishedWithOptions();
        h.Deliver(h.Segment(seq: RemoteIss + 1001), Bytes(100));
        var reply = Assert.Single(h.Deliver(h.Segment(seq: RemoteIss + 3001), Bytes(100)));
        var sack = reply.Header.Options.Sack;
        Assert.Equal(2, sack.Count);
        Assert.Equal(new TcpSackBlock(new TcpSeqNumber(RemoteIss + 3001), new TcpSeqNumber(RemoteIss + 3101)), sack[0]);
        Assert.Equal(new TcpSackBlock(new TcpSeqNumber(RemoteIss + 1001), new TcpSeqNumber(RemoteIss + 1101)), sack[1]);
        Assert.Equal(RemoteIss + 1, reply.Ack);
    }

    [Fact]
    public void Retransmission_after_timeout_skips_sacked_data()
    {
        var h = EstablishedWithOptions();
        uint mss = (uint)h.Tcb.SendMss; // 1000 less 12 bytes of timestamps
        h.Deliver(h.Segment(window: 10000));
        h.Tcb.Send(Bytes((int)(3 * mss)));
        Assert.Equal(3, h.Poll().Count);
        // The peer holds the second segment: SACK it, then let the timer fire.
        h.Options = h.Options with
        {
            Sack = new TcpSackBlocks([new TcpSackBlock(new TcpSeqNumber(LocalIss + 1 + mss), new TcpSeqNumber(LocalIss + 1 + 2 * mss))]),
        };
        h.Deliver(h.Segment(ack: LocalIss + 1, window: 10000));
        var resent = h.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(LocalIss + 1, Assert.Single(resent).Seq);
        h.Options = h.Options with { Sack = default };
        var more = h.Deliver(h.Segment(ack: LocalIss + 1 + mss, window: 10000));
        Assert.DoesNotContain(more, s => s.Seq == LocalIss + 1 + mss);
        Assert.Contains(more, s => s.Seq == LocalIss + 1 + 2 * mss);
    }

    [Fact]
    public void Sack_guided_recovery_retransmits_each_hole_once()
    {
        var h = EstablishedWithOptions();
        uint mss = (uint)h.Tcb.SendMss;
        h.Deliver(h.Segment(window: 20000));
        h.Tcb.Send(Bytes((int)(8 * mss)));
        Assert.Equal(8, h.Poll().Count);
        // Segments 0 and 3 are lost; the peer SACKs what it holds as it arrives.
        var resent = new List<SentSegment>();
        TcpSackBlock B(uint from, uint to) => new(new TcpSeqNumber(LocalIss + 1 + from * mss), new TcpSeqNumber(LocalIss + 1 + to * mss));
        foreach (var blocks in new[]
        {
            new[] { B(1, 2) }, [B(1, 3)], [B(4, 5), B(1, 3)], [B(4, 6), B(1, 3)], [B(4, 7), B(1, 3)],
        })
        {
            h.Options = h.Options with { Sack = new TcpSackBlocks(blocks) };
            resent.AddRange(h.Deliver(h.Segment(ack: LocalIss + 1, window: 20000)));
        }
        var retransmitted = resent.Where(s => s.Seq < LocalIss + 1 + 8 * mss).Select(s => (s.Seq - LocalIss - 1) / mss).ToList();
        Assert.Equal([0u, 3u], retransmitted);
        Assert.Equal(1, h.Counters.FastRetransmits);
    }

    [Fact]
    public void Duplicate_retransmission_updates_the_echoed_timestamp()
    {
        var h = EstablishedWithOptions();
        h.Options = new TcpOptions { Timestamps = new TcpTimestamps(600, 0) };
        h.Deliver(h.Segment(), Bytes(100));
        h.Deliver(h.Segment(), Bytes(100)); // our ACK was lost: the peer resends with a newer clock
        h.Options = new TcpOptions { Timestamps = new TcpTimestamps(900, 0) };
        var ack = h.Deliver(h.Segment(), Bytes(100)).Last();
        Assert.Equal(900u, ack.Header.Options.Timestamps!.Value.EchoReply);
    }
}
