using Apps.Stack.Tcp;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.Tcp.TcpHarness;

namespace Apps.Stack.Tests.Tcp;

/// <summary>RFC 9293 §3.10.7.4 in ESTABLISHED: data, acknowledgment, windows, retransmission.</summary>
public class EstablishedTests
{
    [Fact]
    public void Sends_queued_bytes_in_mss_sized_segments()
    {
        var h = Established();
        Assert.Equal(2500, h.Tcb.Send(Bytes(2500)));
        var sent = h.Poll();
        Assert.Equal([1000, 1000, 500], sent.Select(s => s.Payload.Length));
        Assert.Equal(LocalIss + 1, sent[0].Seq);
        Assert.Equal(LocalIss + 2001, sent[2].Seq);
        Assert.Equal(Bytes(2500), sent.SelectMany(s => s.Payload).ToArray());
    }

    [Fact]
    public void In_order_data_is_readable_and_acknowledged_every_second_segment()
    {
        var h = Established();
        Assert.Empty(h.Deliver(h.Segment(), Bytes(1000)));
        h.PeerSeq += 1000;
        var ack = Assert.Single(h.Deliver(h.Segment(), Bytes(1000, 2)));
        Assert.Equal(RemoteIss + 2001, ack.Ack);
        Assert.Equal(2000, h.Tcb.Available);
        Assert.True(h.Tcb.TakeEvents().HasFlag(TcpEvents.Readable));
    }

    [Fact]
    public void Single_segment_is_acknowledged_after_delayed_ack_timer()
    {
        var h = Established();
        Assert.Empty(h.Deliver(h.Segment(), Bytes(10)));
        Assert.Empty(h.Advance(TimeSpan.FromMilliseconds(39)));
        var ack = Assert.Single(h.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(RemoteIss + 11, ack.Ack);
    }

    [Fact]
    public void Out_of_order_data_is_acknowledged_at_once_and_reassembled()
    {
        var h = Established();
        var data = Bytes(300);
        var dup = Assert.Single(h.Deliver(h.Segment(seq: PeerStart + 100), data[100..200]));
        Assert.Equal(PeerStart, dup.Ack);
        Assert.Equal(0, h.Tcb.Available);
        h.Deliver(h.Segment(seq: PeerStart + 200), data[200..]);
        var fill = Assert.Single(h.Deliver(h.Segment(seq: PeerStart), data[..100]));
        Assert.Equal(PeerStart + 300, fill.Ack);
        var read = new byte[300];
        Assert.Equal(300, h.Tcb.Read(read));
        Assert.Equal(data, read);
    }

    private const uint PeerStart = RemoteIss + 1;

    [Fact]
    public void Overlapping_retransmission_is_trimmed_to_new_bytes()
    {
        var h = Established();
        var data = Bytes(200);
        h.Deliver(h.Segment(), data[..120]);
        h.Deliver(h.Segment(seq: PeerStart + 50), data[50..]);
        var read = new byte[500];
        Assert.Equal(200, h.Tcb.Read(read));
        Assert.Equal(data, read[..200]);
    }

    [Fact]
    public void Data_beyond_receive_window_is_trimmed()
    {
        var h = Established(); // 8192-byte receive buffer
        var data = Bytes(9000);
        for (int i = 0; i < 9; i++)
        {
            h.Deliver(h.Segment(seq: PeerStart + (uint)(i * 1000)), data[(i * 1000)..((i + 1) * 1000)]);
        }
        Assert.Equal(8192, h.Tcb.Available);
        var ack = h.Poll().Concat(h.Advance(TimeSpan.FromMilliseconds(50))).Last();
        Assert.Equal(PeerStart + 8192, ack.Ack);
        Assert.Equal(0, ack.Header.Window);
    }

    [Fact]
    public void Acknowledgment_frees_send_buffer_and_stops_timer()
    {
        var h = Established();
        h.Tcb.Send(Bytes(1500));
        h.Poll();
        Assert.Equal(1500, h.Tcb.Unacknowledged);
        h.Deliver(h.Segment(ack: LocalIss + 1001));
        Assert.Equal(500, h.Tcb.Unacknowledged);
        h.Deliver(h.Segment(ack: LocalIss + 1501));
        Assert.Equal(0, h.Tcb.Unacknowledged);
        Assert.True(h.Tcb.TakeEvents().HasFlag(TcpEvents.Writable));
        Assert.Null(h.Tcb.PollAt);
    }

    [Fact]
    public void Retransmits_after_rto_when_segment_lost()
    {
        var h = Established();
        h.Tcb.Send(Bytes(500));
        var first = Assert.Single(h.Poll());
        var again = Assert.Single(h.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(first.Seq, again.Seq);
        Assert.Equal(first.Payload, again.Payload);
        Assert.Equal(1, h.Counters.RetransmissionTimeouts);
        // RFC 6298 §5.5: the next retransmission waits twice as long.
        Assert.Empty(h.Advance(TimeSpan.FromSeconds(1.5)));
        Assert.Single(h.Advance(TimeSpan.FromSeconds(0.5)));
    }

    [Fact]
    public void Gives_up_after_max_retransmissions_and_resets()
    {
        var h = Established();
        h.Tcb.Send(Bytes(10));
        h.Poll();
        var sent = h.Advance(TimeSpan.FromHours(1));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
        Assert.Equal(TcpError.TimedOut, h.Tcb.Error);
        Assert.Equal(TcpFlags.Rst, sent[^1].Flags);
        Assert.True(h.Tcb.TakeEvents().HasFlag(TcpEvents.TimedOut));
    }

    [Fact]
    public void Does_not_send_beyond_peer_window()
    {
        var h = Established();
        h.Deliver(h.Segment(window: 1500));
        h.Tcb.Send(Bytes(4000));
        var sent = h.Poll();
        // A full segment fits; the 500-byte remainder would be a silly window (RFC 9293 §3.8.6.2.1).
        Assert.Equal(1000, sent.Sum(s => s.Payload.Length));
        var more = h.Deliver(h.Segment(window: 1500));
        Assert.Equal(1000, more.Sum(s => s.Payload.Length));
    }

    [Fact]
    public void Zero_window_is_probed_on_persist_timer_and_data_flows_when_it_opens()
    {
        var h = Established();
        h.Deliver(h.Segment(window: 0));
        h.Tcb.Send(Bytes(3000));
        Assert.Empty(h.Poll());
        var probe = Assert.Single(h.Advance(TimeSpan.FromSeconds(1)));
        Assert.Single(probe.Payload);
        Assert.Equal(LocalIss + 1, probe.Seq);
        // The peer still has no room: it answers each probe without taking the byte; the probes back off
        // but never time out while it answers (RFC 9293 §3.8.6.1).
        var later = new List<SentSegment>();
        for (var end = h.Now + TimeSpan.FromMinutes(30); h.Now < end;)
        {
            h.Deliver(h.Segment(ack: LocalIss + 1, window: 0));
            later.AddRange(h.Advance(TimeSpan.FromSeconds(61))); // the probe interval backs off to 60 s
        }
        Assert.True(later.Count >= 20);
        Assert.All(later, p => Assert.Single(p.Payload));
        Assert.Equal(TcpState.Established, h.Tcb.State);
        var flow = h.Deliver(h.Segment(ack: LocalIss + 1, window: 8000));
        Assert.Equal(3000, flow.Sum(s => s.Payload.Length));
    }

    [Fact]
    public void Zero_window_probes_nobody_answers_time_the_connection_out()
    {
        var h = Established();
        h.Deliver(h.Segment(window: 0));
        h.Tcb.Send(Bytes(3000));
        var sent = h.Advance(TimeSpan.FromHours(1));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
        Assert.Equal(TcpError.TimedOut, h.Tcb.Error);
        Assert.Equal(Plain.MaxRetransmissions, sent.Count(s => s.Payload.Length == 1));
        Assert.Equal(TcpFlags.Rst, sent[^1].Flags);
    }

    [Fact]
    public void Nagle_holds_small_segment_while_data_is_unacknowledged()
    {
        var h = Established(Plain with { NoDelay = false });
        h.Tcb.Send(Bytes(10));
        Assert.Single(h.Poll());
        h.Tcb.Send(Bytes(10));
        Assert.Empty(h.Poll());
        var released = Assert.Single(h.Deliver(h.Segment()));
        Assert.Equal(10, released.Payload.Length);
    }

    [Fact]
    public void Reading_a_full_buffer_sends_a_window_update()
    {
        var h = Established();
        for (int i = 0; i < 8; i++) h.Deliver(h.Segment(seq: PeerStart + (uint)(i * 1000)), Bytes(1000));
        h.Advance(TimeSpan.FromMilliseconds(50));
        var update = Assert.Single(h.Tcb.Read(new byte[8000]) > 0 ? h.Poll() : []);
        Assert.True(update.Header.Window >= 8000);
    }

    [Fact]
    public void Abort_sends_reset_and_closes()
    {
        var h = Established();
        h.Tcb.Abort();
        var rst = Assert.Single(h.Poll());
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(LocalIss + 1, rst.Seq);
        Assert.Equal(TcpState.Closed, h.Tcb.State);
        Assert.Equal(TcpError.Aborted, h.Tcb.Error);
    }

    [Fact]
    public void Ack_for_unsent_data_is_answered_and_dropped()
    {
        var h = Established();
        var reply = Assert.Single(h.Deliver(h.Segment(ack: LocalIss + 900), Bytes(5)));
        Assert.Equal(RemoteIss + 1, reply.Ack);
        Assert.Equal(0, h.Tcb.Available);
        Assert.Equal(1, h.Counters.InvalidAcks);
    }

    [Fact]
    public void Three_duplicate_acks_trigger_fast_retransmit()
    {
        var h = Established();
        h.Deliver(h.Segment(window: 60000));
        h.Tcb.Send(Bytes(5000));
        var sent = h.Poll();
        Assert.Equal(5, sent.Count);
        var dup = h.Segment(ack: LocalIss + 1001, window: 60000);
        Assert.Empty(h.Deliver(dup));
        Assert.Empty(h.Deliver(dup));
        Assert.Empty(h.Deliver(dup));
        var resent = Assert.Single(h.Deliver(dup));
        Assert.Equal(LocalIss + 1001, resent.Seq);
        Assert.Equal(1, h.Counters.FastRetransmits);
        Assert.True(h.Tcb.InRecovery);
        // Full acknowledgment ends recovery (RFC 6582 §3.2 step 3).
        h.Deliver(h.Segment(ack: LocalIss + 5001, window: 60000));
        Assert.False(h.Tcb.InRecovery);
    }

    [Fact]
    public void Partial_ack_in_recovery_retransmits_next_hole()
    {
        var h = Established();
        h.Deliver(h.Segment(window: 60000));
        h.Tcb.Send(Bytes(5000));
        h.Poll();
        var dup = h.Segment(ack: LocalIss + 1, window: 60000);
        for (int i = 0; i < 2; i++) Assert.Empty(h.Deliver(dup));
        var first = Assert.Single(h.Deliver(dup));
        Assert.Equal(LocalIss + 1, first.Seq);
        var partial = h.Deliver(h.Segment(ack: LocalIss + 2001, window: 60000));
        Assert.Contains(partial, s => s.Seq == LocalIss + 2001 && s.Payload.Length == 1000);
        Assert.True(h.Tcb.InRecovery);
    }

    [Fact]
    public void Pure_ack_after_timeout_carries_snd_max_so_peers_cannot_ack_war()
    {
        var h = Established();
        h.Deliver(h.Segment(window: 60000));
        h.Tcb.Send(Bytes(3000));
        h.Poll();
        h.Advance(TimeSpan.FromSeconds(1)); // timeout: SND.NXT goes back to SND.UNA
        var ack = Assert.Single(h.Deliver(h.Segment(ack: LocalIss + 1, window: 60000), Bytes(10)).Concat(h.Advance(TimeSpan.FromSeconds(0.1))));
        Assert.Equal(LocalIss + 3001, ack.Seq);
    }

    [Fact]
    public void Silly_window_override_sends_what_fits_after_the_persist_timeout()
    {
        var h = Established();
        h.Deliver(h.Segment(window: 300)); // far below half the largest window seen (8000)
        h.Tcb.Send(Bytes(3000));
        Assert.Empty(h.Poll());
        var forced = Assert.Single(h.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(300, forced.Payload.Length);
    }

    [Fact]
    public void Tail_loss_probe_resends_the_last_segment_after_two_rtts_before_the_rto()
    {
        var h = Established();
        h.Deliver(h.Segment(window: 60000));
        h.Tcb.Send(Bytes(1000));
        h.Poll();
        h.Advance(TimeSpan.FromMilliseconds(100));
        h.Deliver(h.Segment(window: 60000)); // RTT sample: 100 ms
        h.Tcb.Send(Bytes(3000));
        Assert.Equal(3, h.Poll().Count);
        // The whole tail is lost. After 2·SRTT the last segment goes out again, long before the 1 s RTO.
        Assert.Empty(h.Advance(TimeSpan.FromMilliseconds(199)));
        var probe = Assert.Single(h.Advance(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(LocalIss + 1 + 1000 + 2000, probe.Seq);
        Assert.Equal(1000, probe.Payload.Length);
        Assert.Equal(1, h.Counters.TailLossProbes);
        Assert.Equal(0, h.Counters.RetransmissionTimeouts);
    }
}
