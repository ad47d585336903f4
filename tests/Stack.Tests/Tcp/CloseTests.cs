using Apps.Stack.Tcp;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.Tcp.TcpHarness;

namespace Apps.Stack.Tests.Tcp;

/// <summary>RFC 9293 §3.6 and figure 5: FIN-WAIT-1/2, CLOSING, TIME-WAIT, CLOSE-WAIT, LAST-ACK.</summary>
public class FinWaitTests
{
    [Fact]
    public void Close_sends_fin_after_queued_data()
    {
        var h = Established();
        h.Tcb.Send(Bytes(300));
        h.Tcb.Close();
        Assert.Equal(TcpState.FinWait1, h.Tcb.State);
        var seg = Assert.Single(h.Poll());
        Assert.Equal(TcpFlags.Ack | TcpFlags.Fin | TcpFlags.Psh, seg.Flags);
        Assert.Equal(300, seg.Payload.Length);
    }

    [Fact]
    public void Ack_of_fin_moves_fin_wait_1_to_fin_wait_2()
    {
        var h = FinWait2();
        Assert.Equal(TcpState.FinWait2, h.Tcb.State);
    }

    [Fact]
    public void Fin_in_fin_wait_2_enters_time_wait_then_closes_after_2msl()
    {
        var h = FinWait2();
        var ack = Assert.Single(h.Deliver(h.Segment(TcpFlags.Fin | TcpFlags.Ack)));
        Assert.Equal(RemoteIss + 2, ack.Ack);
        Assert.Equal(TcpState.TimeWait, h.Tcb.State);
        h.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(TcpState.TimeWait, h.Tcb.State);
        h.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
        Assert.Equal(TcpError.None, h.Tcb.Error);
    }

    [Fact]
    public void Retransmitted_fin_in_time_wait_is_reacknowledged_and_restarts_timer()
    {
        var h = FinWait2();
        h.Deliver(h.Segment(TcpFlags.Fin | TcpFlags.Ack));
        h.Advance(TimeSpan.FromSeconds(50));
        var again = Assert.Single(h.Deliver(h.Segment(TcpFlags.Fin | TcpFlags.Ack)));
        Assert.Equal(RemoteIss + 2, again.Ack);
        h.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(TcpState.TimeWait, h.Tcb.State);
        h.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
    }

    [Fact]
    public void Simultaneous_close_goes_through_closing()
    {
        // RFC 9293 §3.6 figure 13.
        var h = Established();
        h.Tcb.Close();
        var fin = Assert.Single(h.Poll());
        // The peer's FIN crosses ours: it does not acknowledge our FIN.
        var ack = Assert.Single(h.Deliver(h.Segment(TcpFlags.Fin | TcpFlags.Ack, ack: fin.Seq)));
        Assert.Equal(RemoteIss + 2, ack.Ack);
        Assert.Equal(TcpState.Closing, h.Tcb.State);
        h.PeerSeq++;
        h.Deliver(h.Segment(ack: fin.Seq + 1));
        Assert.Equal(TcpState.TimeWait, h.Tcb.State);
    }

    [Fact]
    public void Fin_acknowledging_our_fin_in_fin_wait_1_goes_straight_to_time_wait()
    {
        var h = Established();
        h.Tcb.Close();
        h.Poll();
        h.Deliver(h.Segment(TcpFlags.Fin | TcpFlags.Ack));
        Assert.Equal(TcpState.TimeWait, h.Tcb.State);
    }

    [Fact]
    public void Fin_is_retransmitted_when_unacknowledged()
    {
        var h = Established();
        h.Tcb.Close();
        var fin = Assert.Single(h.Poll());
        var again = Assert.Single(h.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(fin.Seq, again.Seq);
        Assert.True(again.Flags.HasFlag(TcpFlags.Fin));
    }

    [Fact]
    public void Fin_wait_2_waits_for_a_half_closed_peer_as_long_as_the_application_reads()
    {
        var h = FinWait2();
        h.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(TcpState.FinWait2, h.Tcb.State);
        h.Deliver(h.Segment(TcpFlags.Ack | TcpFlags.Psh), Bytes(10)); // the peer's late answer still arrives
        Assert.Equal(10, h.Tcb.Available);
    }

    [Fact]
    public void Fin_wait_2_times_out_when_the_application_reads_no_more_and_the_peer_never_closes()
    {
        var h = FinWait2();
        h.Advance(TimeSpan.FromMinutes(5));
        h.Tcb.ShutdownReceive(h.Now);
        h.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal(TcpState.FinWait2, h.Tcb.State);
        h.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
    }

    [Fact]
    public void A_peer_that_keeps_sending_cannot_hold_an_abandoned_connection_open()
    {
        var h = FinWait2();
        h.Deliver(h.Segment(TcpFlags.Ack | TcpFlags.Psh), Bytes(500)); // unread when the application lets go
        h.PeerSeq += 500;
        h.Tcb.ShutdownReceive(h.Now);
        Assert.Equal(0, h.Tcb.Available);
        for (int i = 0; i < 10 && h.Tcb.State == TcpState.FinWait2; i++)
        {
            h.Advance(TimeSpan.FromSeconds(20));
            var replies = h.Deliver(h.Segment(TcpFlags.Ack | TcpFlags.Psh), Bytes(1000));
            h.PeerSeq += 1000;
            if (h.Tcb.State != TcpState.FinWait2) break;
            // Acknowledged and discarded: the window stays open, so the peer is never stuck probing.
            Assert.Equal(0, h.Tcb.Available);
            Assert.Contains(replies.Concat(h.Advance(TimeSpan.FromSeconds(1))), s => s.Ack == h.PeerSeq);
        }
        Assert.Equal(TcpState.Closed, h.Tcb.State); // 2 min after the application let go, however busy the peer
    }

    [Fact]
    public void Data_still_arrives_in_fin_wait_2()
    {
        var h = FinWait2();
        h.Deliver(h.Segment(), Bytes(100));
        Assert.Equal(100, h.Tcb.Available);
    }
}

public class CloseWaitTests
{
    [Fact]
    public void Peer_fin_raises_peer_closed_after_buffered_data()
    {
        var h = Established();
        h.Deliver(h.Segment(TcpFlags.Ack | TcpFlags.Fin), Bytes(10));
        Assert.Equal(TcpState.CloseWait, h.Tcb.State);
        Assert.True(h.Tcb.PeerClosed);
        Assert.Equal(10, h.Tcb.Available);
        Assert.True(h.Tcb.TakeEvents().HasFlag(TcpEvents.PeerClosed));
    }

    [Fact]
    public void Out_of_order_fin_is_held_until_the_gap_fills()
    {
        var h = Established();
        h.Deliver(h.Segment(TcpFlags.Ack | TcpFlags.Fin, seq: RemoteIss + 11), Bytes(5));
        Assert.Equal(TcpState.Established, h.Tcb.State);
        h.Deliver(h.Segment(), Bytes(10));
        Assert.Equal(TcpState.CloseWait, h.Tcb.State);
        Assert.Equal(15, h.Tcb.Available);
    }

    [Fact]
    public void Can_still_send_in_close_wait()
    {
        var h = CloseWait();
        h.Tcb.Send(Bytes(100));
        Assert.Equal(100, Assert.Single(h.Poll()).Payload.Length);
    }

    [Fact]
    public void Close_in_close_wait_sends_fin_and_last_ack_closes_on_its_ack()
    {
        var h = CloseWait();
        h.Tcb.Close();
        Assert.Equal(TcpState.LastAck, h.Tcb.State);
        var fin = Assert.Single(h.Poll());
        Assert.True(fin.Flags.HasFlag(TcpFlags.Fin));
        h.Deliver(h.Segment(ack: fin.Seq + 1));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
        Assert.True(h.Tcb.TakeEvents().HasFlag(TcpEvents.Closed));
    }

    [Fact]
    public void Send_after_close_is_api_misuse()
    {
        var h = CloseWait();
        h.Tcb.Close();
        var e = Assert.Throws<InvalidOperationException>(() => h.Tcb.Send(Bytes(1)));
        Assert.Contains("LastAck", e.Message);
    }
}
