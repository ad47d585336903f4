using Apps.Stack.Tcp;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.Tcp.TcpHarness;

namespace Apps.Stack.Tests.Tcp;

/// <summary>RFC 5961: blind reset (§3), blind SYN (§4), blind data injection (§5), rate limit (§7).</summary>
public class Rfc5961Tests
{
    private const uint RcvNxt = RemoteIss + 1;

    private static void AssertChallengeAck(TcpHarness h, List<SentSegment> reply)
    {
        var ack = Assert.Single(reply);
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(h.Tcb.SndNxt.Value, ack.Seq);   // <SEQ=SND.NXT>
        Assert.Equal(h.Tcb.RcvNxt.Value, ack.Ack);   // <ACK=RCV.NXT>
    }

    [Fact]
    public void S3_rst_matching_rcv_nxt_exactly_resets_the_connection()
    {
        var h = Established();
        Assert.Empty(h.Deliver(h.Segment(TcpFlags.Rst, seq: RcvNxt)));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
        Assert.Equal(TcpError.ConnectionReset, h.Tcb.Error);
        Assert.True(h.Tcb.TakeEvents().HasFlag(TcpEvents.Reset));
    }

    [Fact]
    public void S3_rst_in_window_but_not_exact_gets_a_challenge_ack()
    {
        var h = Established();
        var reply = h.Deliver(h.Segment(TcpFlags.Rst, seq: RcvNxt + 100));
        AssertChallengeAck(h, reply);
        Assert.Equal(TcpState.Established, h.Tcb.State);
        Assert.Equal(1, h.Counters.ChallengeAcks);
    }

    [Fact]
    public void S3_rst_outside_window_is_dropped_silently()
    {
        var h = Established();
        Assert.Empty(h.Deliver(h.Segment(TcpFlags.Rst, seq: RcvNxt + 1_000_000)));
        Assert.Empty(h.Deliver(h.Segment(TcpFlags.Rst, seq: RcvNxt - 1)));
        Assert.Equal(TcpState.Established, h.Tcb.State);
        Assert.Equal(2, h.Counters.OutOfWindowResets);
    }

    [Fact]
    public void S3_peer_answering_challenge_with_exact_rst_completes_the_reset()
    {
        var h = Established();
        var challenge = Assert.Single(h.Deliver(h.Segment(TcpFlags.Rst, seq: RcvNxt + 5)));
        // A genuine peer that lost its state answers the challenge ACK with RST at SEQ = the ACK it saw.
        h.Deliver(h.Segment(TcpFlags.Rst, seq: challenge.Ack));
        Assert.Equal(TcpState.Closed, h.Tcb.State);
    }

    [Theory]
    [InlineData(RcvNxt)]            // exactly RCV.NXT
    [InlineData(RcvNxt + 500)]      // in window
    [InlineData(RcvNxt + 900_000)]  // out of window
    public void S4_syn_in_established_gets_a_challenge_ack_never_a_reset(uint seq)
    {
        var h = Established();
        var reply = h.Deliver(h.Segment(TcpFlags.Syn, seq: seq, ack: 0));
        AssertChallengeAck(h, reply);
        Assert.Equal(TcpState.Established, h.Tcb.State);
        Assert.DoesNotContain(reply, s => s.Flags.HasFlag(TcpFlags.Rst));
    }

    [Fact]
    public void S5_ack_older_than_max_window_is_dropped_with_challenge_ack_and_its_data_discarded()
    {
        var h = Established();
        var reply = h.Deliver(h.Segment(ack: unchecked(LocalIss + 1 - 20_000)), Bytes(100));
        AssertChallengeAck(h, reply);
        Assert.Equal(0, h.Tcb.Available);
        Assert.Equal(1, h.Counters.InvalidAcks);
    }

    [Fact]
    public void S5_old_ack_within_max_window_is_accepted_with_its_data()
    {
        var h = Established();
        h.Deliver(h.Segment(ack: LocalIss + 1 - 4000), Bytes(100));
        Assert.Equal(100, h.Tcb.Available);
    }

    [Fact]
    public void S5_ack_of_unsent_data_is_dropped_and_acknowledged()
    {
        var h = Established();
        var reply = Assert.Single(h.Deliver(h.Segment(ack: LocalIss + 5000), Bytes(100)));
        Assert.Equal(RcvNxt, reply.Ack);
        Assert.Equal(0, h.Tcb.Available);
    }

    [Fact]
    public void S7_challenge_acks_are_rate_limited_per_second()
    {
        var h = Established();
        int acks = 0;
        for (int i = 0; i < 100; i++) acks += h.Deliver(h.Segment(TcpFlags.Rst, seq: RcvNxt + 1 + (uint)i)).Count;
        Assert.Equal(Plain.ChallengeAckLimitPerSecond, acks);
        Assert.Equal(90, h.Counters.ChallengeAcksSuppressed);
        h.Advance(TimeSpan.FromSeconds(1));
        Assert.Single(h.Deliver(h.Segment(TcpFlags.Rst, seq: RcvNxt + 1)));
    }

    [Fact]
    public void Blind_reset_sweep_across_sequence_space_does_not_kill_the_connection()
    {
        var h = Established();
        var rng = new Random(5);
        for (int i = 0; i < 10_000; i++)
        {
            uint seq = (uint)rng.NextInt64(0, uint.MaxValue);
            if (seq == RcvNxt) continue;
            h.Deliver(h.Segment(TcpFlags.Rst, seq: seq));
        }
        Assert.Equal(TcpState.Established, h.Tcb.State);
        Assert.True(h.Counters.OutOfWindowResets > 9_900);
    }
}
