using Apps.Stack.Tcp;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.Tcp.TcpHarness;

namespace Apps.Stack.Tests.Tcp;

/// <summary>RFC 9293 §3.8.4 keep-alives: off by default; probes after the idle time; give up after N.</summary>
public class KeepAliveTests
{
    private static readonly TcpSettings WithKeepAlive = Plain with
    {
        KeepAliveIdle = TimeSpan.FromHours(2), KeepAliveInterval = TimeSpan.FromSeconds(75), KeepAliveProbes = 3,
    };

    [Fact]
    public void Idle_connection_without_keep_alive_sends_nothing()
    {
        var h = Established();
        Assert.Empty(h.Advance(TimeSpan.FromHours(10)));
        Assert.Equal(TcpState.Established, h.Tcb.State);
    }

    [Fact]
    public void Probe_after_idle_time_is_one_below_snd_una_and_an_answer_keeps_the_connection()
    {
        var h = Established(WithKeepAlive);
        Assert.Empty(h.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1)));
        var probe = Assert.Single(h.Advance(TimeSpan.FromSeconds(1)));
        Assert.Equal(LocalIss, probe.Seq);
        Assert.Empty(probe.Payload);
        h.Deliver(h.Segment());
        Assert.Empty(h.Advance(TimeSpan.FromHours(1)));
        Assert.Equal(TcpState.Established, h.Tcb.State);
    }

    [Fact]
    public void Unanswered_probes_time_the_connection_out_with_a_reset()
    {
        var h = Established(WithKeepAlive);
        var sent = h.Advance(TimeSpan.FromHours(3));
        Assert.Equal(3, sent.Count(s => s.Seq == LocalIss));
        Assert.Equal(TcpFlags.Rst, sent[^1].Flags);
        Assert.Equal(TcpState.Closed, h.Tcb.State);
        Assert.Equal(TcpError.TimedOut, h.Tcb.Error);
    }
}
