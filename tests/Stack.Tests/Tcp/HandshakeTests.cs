using Apps.Stack.Tcp;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.Tcp.TcpHarness;

namespace Apps.Stack.Tests.Tcp;

/// <summary>RFC 9293 §3.5 and §3.10.7.3: CLOSED → SYN-SENT → ESTABLISHED, and SYN-RECEIVED.</summary>
public class SynSentTests
{
    [Fact]
    public void Connect_sends_syn_with_iss_and_mss()
    {
        var counters = new TcpCounters();
        var tcb = TcpControlBlock.Connect(Plain, counters, Connection, new TcpSeqNumber(LocalIss), TimeSpan.Zero);
        var h = new TcpHarness(tcb, counters);
        var syn = Assert.Single(h.Poll());
        Assert.Equal(TcpFlags.Syn, syn.Flags);
        Assert.Equal(LocalIss, syn.Seq);
        Assert.Equal((ushort)1000, syn.Header.Options.MaxSegmentSize);
        Assert.Equal(TcpState.SynSent, tcb.State);
    }

    [Fact]
    public void Syn_ack_completes_handshake_and_raises_established()
    {
        var h = SynSent();
        var reply = h.Deliver(h.Segment(TcpFlags.Syn | TcpFlags.Ack, seq: RemoteIss, ack: LocalIss + 1));
        var ack = Assert.Single(reply);
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(LocalIss + 1, ack.Seq);
        Assert.Equal(RemoteIss + 1, ack.Ack);
        Assert.Equal(TcpState.Established, h.Tcb.State);
        Assert.True(h.Tcb.TakeEvents().HasFlag(TcpEvents.Established));
    }

    [Fact]
    public void Syn_ack_with_bad_ack_is_answered_with_reset_and_ignored()
    {
        var h = SynSent();
        var reply = h.Deliver(h.Segment(TcpFlags.Syn | TcpFlags.Ack, seq: RemoteIss, ack: LocalIss + 7));
        var rst = Assert.Single(reply);
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(LocalIss + 7, rst.Seq);
        Assert.Equal(TcpState.SynSent, h.Tcb.State);
    }

    [Fact]
    public void Reset_acknowledging_syn_refuses_connection()
    {
        var h = SynSent();
        h.Deliver(h.Segment(TcpFlags.Rst | TcpFlags.Ack, seq: 0, ack: LocalIss + 1));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
        Assert.Equal(TcpError.ConnectionRefused, h.Tcb.Error);
        Assert.True(h.Tcb.TakeEvents().HasFlag(TcpEvents.Reset));
    }

    [Fact]
    public void Reset_without_ack_is_ignored()
    {
        var h = SynSent();
        h.Deliver(h.Segment(TcpFlags.Rst, seq: 0, ack: 0));
        Assert.Equal(TcpState.SynSent, h.Tcb.State);
    }

    [Fact]
    public void Simultaneous_open_answers_syn_with_syn_ack_from_same_iss()
    {
        // RFC 9293 §3.5 figure 7.
        var h = SynSent();
        var reply = h.Deliver(h.Segment(TcpFlags.Syn, seq: RemoteIss, ack: 0));
        var synAck = Assert.Single(reply);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(LocalIss, synAck.Seq);
        Assert.Equal(RemoteIss + 1, synAck.Ack);
        Assert.Equal(TcpState.SynReceived, h.Tcb.State);
        h.Deliver(h.Segment(TcpFlags.Syn | TcpFlags.Ack, seq: RemoteIss, ack: LocalIss + 1) with { });
        // The peer's SYN-ACK repeats its SYN (old sequence): answered by ACK, and the ACK part completes.
        h.Deliver(h.Segment(TcpFlags.Ack, ack: LocalIss + 1));
        Assert.Equal(TcpState.Established, h.Tcb.State);
    }

    [Fact]
    public void Syn_is_retransmitted_with_backoff_then_times_out()
    {
        var h = SynSent();
        var first = h.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TcpFlags.Syn, Assert.Single(first).Flags);
        var second = h.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(second); // RTO doubled to 2 s
        Assert.Single(h.Advance(TimeSpan.FromSeconds(1)));
        h.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
        Assert.Equal(TcpError.TimedOut, h.Tcb.Error);
        Assert.Equal(Plain.MaxSynRetransmissions + 1, h.Counters.RetransmissionTimeouts);
    }

    [Fact]
    public void After_a_lost_syn_data_starts_with_one_segment_and_a_three_second_rto()
    {
        var h = SynSent();
        Assert.Equal(TcpFlags.Syn, Assert.Single(h.Advance(TimeSpan.FromSeconds(1))).Flags); // the first SYN was lost
        h.Deliver(h.Segment(TcpFlags.Syn | TcpFlags.Ack, seq: RemoteIss, ack: LocalIss + 1) with { Options = PeerSynOptions });
        Assert.Equal(TcpState.Established, h.Tcb.State);

        h.Tcb.Send(Bytes(5000));
        Assert.Single(h.Poll()); // RFC 5681 §3.1: one segment, not RFC 6928's ten
        Assert.Empty(h.Advance(TimeSpan.FromSeconds(2.9)));
        Assert.Single(h.Advance(TimeSpan.FromSeconds(0.2))); // RFC 6298 §5.7: the RTO restarts at 3 s
    }

    [Fact]
    public void Without_handshake_loss_data_starts_with_the_full_initial_window()
    {
        var h = Established();
        h.Tcb.Send(Bytes(5000));
        Assert.Equal(5, h.Poll().Count);
    }

    [Fact]
    public void Close_in_syn_sent_goes_to_closed_without_segments()
    {
        var h = SynSent();
        h.Tcb.Close();
        Assert.Empty(h.Poll());
        Assert.Equal(TcpState.Closed, h.Tcb.State);
    }

    [Fact]
    public void Data_on_syn_ack_is_delivered()
    {
        var h = SynSent();
        h.Deliver(h.Segment(TcpFlags.Syn | TcpFlags.Ack, seq: RemoteIss, ack: LocalIss + 1), "hi"u8.ToArray());
        var buffer = new byte[10];
        Assert.Equal(2, h.Tcb.Read(buffer));
        Assert.Equal((uint)RemoteIss + 3, h.Tcb.RcvNxt.Value);
    }
}

public class SynReceivedTests
{
    [Fact]
    public void Ack_of_syn_ack_establishes()
    {
        var h = SynReceived();
        Assert.Empty(h.Deliver(h.Segment(ack: LocalIss + 1)));
        Assert.Equal(TcpState.Established, h.Tcb.State);
        Assert.True(h.Tcb.TakeEvents().HasFlag(TcpEvents.Established));
    }

    [Fact]
    public void Unacceptable_ack_gets_reset()
    {
        var h = SynReceived();
        var rst = Assert.Single(h.Deliver(h.Segment(ack: LocalIss + 50)));
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(LocalIss + 50, rst.Seq);
        Assert.Equal(TcpState.SynReceived, h.Tcb.State);
    }

    [Fact]
    public void Retransmitted_syn_repeats_syn_ack()
    {
        var h = SynReceived();
        var again = Assert.Single(h.Deliver(h.Segment(TcpFlags.Syn, seq: RemoteIss, ack: 0)));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, again.Flags);
        Assert.Equal(LocalIss, again.Seq);
    }

    [Fact]
    public void Reset_returns_passive_connection_to_listen_quietly()
    {
        var h = SynReceived();
        h.Deliver(h.Segment(TcpFlags.Rst, ack: 0));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
        Assert.Equal(TcpError.None, h.Tcb.Error);
    }

    [Fact]
    public void Syn_ack_is_retransmitted_on_timeout()
    {
        var h = SynReceived();
        var resent = h.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, Assert.Single(resent).Flags);
        Assert.Equal(1, h.Counters.Retransmissions);
    }

    [Fact]
    public void After_a_lost_syn_ack_data_starts_with_one_segment()
    {
        var h = SynReceived();
        Assert.Single(h.Advance(TimeSpan.FromSeconds(1))); // the SYN-ACK timed out once
        h.Deliver(h.Segment(ack: LocalIss + 1));
        Assert.Equal(TcpState.Established, h.Tcb.State);
        h.Tcb.Send(Bytes(5000));
        Assert.Single(h.Poll());
    }

    [Fact]
    public void Data_with_the_handshake_ack_is_delivered()
    {
        var h = SynReceived();
        h.Deliver(h.Segment(TcpFlags.Ack | TcpFlags.Psh, ack: LocalIss + 1), "GET /"u8.ToArray());
        Assert.Equal(TcpState.Established, h.Tcb.State);
        Assert.Equal(5, h.Tcb.Available);
    }

    [Fact]
    public void Fin_with_the_handshake_ack_goes_to_close_wait()
    {
        var h = SynReceived();
        var reply = h.Deliver(h.Segment(TcpFlags.Ack | TcpFlags.Fin, ack: LocalIss + 1), "bye"u8.ToArray());
        Assert.Equal(TcpState.CloseWait, h.Tcb.State);
        Assert.Equal(RemoteIss + 1 + 3 + 1, Assert.Single(reply).Ack); // the data and the FIN, acknowledged at once
        Assert.True(h.Tcb.PeerClosed);
    }
}

public class SimultaneousOpenCloseTests
{
    [Fact]
    public void Close_in_syn_received_sends_fin_only_after_the_handshake_completes()
    {
        var h = SynSent();
        h.Deliver(h.Segment(TcpFlags.Syn, seq: RemoteIss, ack: 0)); // simultaneous open: SYN-RECEIVED
        h.Tcb.Close();
        Assert.Equal(TcpState.SynReceived, h.Tcb.State);
        var resent = h.Advance(TimeSpan.FromSeconds(1)); // SYN-ACK lost: resent, no FIN yet
        Assert.All(resent, s => Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, s.Flags));
        var fin = Assert.Single(h.Deliver(h.Segment(ack: LocalIss + 1)));
        Assert.Equal(TcpFlags.Fin | TcpFlags.Ack, fin.Flags);
        Assert.Equal(LocalIss + 1, fin.Seq);
        Assert.Equal(TcpState.FinWait1, h.Tcb.State);
    }
}
