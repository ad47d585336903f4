using Apps.Stack.Tcp;

namespace Apps.Stack.Tests.Tcp;

/// <summary>RFC 9438 window arithmetic and RFC 5681/6928 slow start.</summary>
public class CubicCongestionControlTests
{
    private const int Mss = 1000;

    [Fact]
    public void Initial_window_follows_rfc6928()
    {
        Assert.Equal(10 * Mss, new CubicCongestionControl(Mss, 1 << 20).Window);
        Assert.Equal(14600, new CubicCongestionControl(1460, 1 << 20).Window);
        Assert.Equal(14600, new CubicCongestionControl(4000, 1 << 20).Window); // min(10 MSS, max(2 MSS, 14600))
    }

    [Fact]
    public void Slow_start_grows_by_acknowledged_bytes_up_to_two_segments_per_ack()
    {
        var cc = new CubicCongestionControl(Mss, 1 << 20);
        cc.OnAck(Mss, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));
        Assert.Equal(11 * Mss, cc.Window);
        cc.OnAck(5 * Mss, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));
        Assert.Equal(13 * Mss, cc.Window);
    }

    [Fact]
    public void Slow_start_with_segmentation_offload_grows_by_up_to_one_burst_per_ack()
    {
        var cc = new CubicCongestionControl(Mss, 1 << 20, burst: 40 * Mss);
        cc.OnAck(30 * Mss, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.Equal(40 * Mss, cc.Window);
        cc.OnAck(100 * Mss, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.Equal(80 * Mss, cc.Window);
    }

    [Fact]
    public void Congestion_event_multiplies_by_beta()
    {
        var cc = new CubicCongestionControl(Mss, 1 << 20);
        int ssthresh = cc.OnCongestion(TimeSpan.Zero, 100 * Mss);
        Assert.Equal(70 * Mss, ssthresh);
        Assert.Equal(2 * Mss, new CubicCongestionControl(Mss, 1 << 20).OnCongestion(TimeSpan.Zero, Mss));
    }

    [Fact]
    public void Window_returns_to_w_max_after_k_seconds_then_grows_convex()
    {
        // RFC 9438 §4.2: K = cbrt(W_max (1 - beta) / C); with W_max = 100 segments, K ≈ 4.22 s.
        var cc = new CubicCongestionControl(Mss, 1 << 30);
        cc.SetWindow(100 * Mss);
        var start = TimeSpan.FromSeconds(10);
        cc.SetWindow(cc.OnCongestion(start, 100 * Mss));
        Assert.Equal(70 * Mss, cc.Window);
        var rtt = TimeSpan.FromMilliseconds(100);
        var now = start;
        double k = Math.Cbrt(100 * 0.3 / 0.4);
        while (now - start < TimeSpan.FromSeconds(k))
        {
            now += rtt;
            cc.OnAck(cc.Window, now, rtt); // one window acknowledged per RTT
        }
        Assert.InRange(cc.Window, 97 * Mss, 104 * Mss);
        for (int i = 0; i < 20; i++)
        {
            now += rtt;
            cc.OnAck(cc.Window, now, rtt);
        }
        Assert.True(cc.Window > 104 * Mss);
    }

    [Fact]
    public void Retransmit_timeout_collapses_the_window_to_one_segment()
    {
        var cc = new CubicCongestionControl(Mss, 1 << 20);
        cc.OnRetransmitTimeout(TimeSpan.Zero, 10 * Mss);
        Assert.Equal(Mss, cc.Window);
        Assert.Equal(7 * Mss, cc.SlowStartThreshold);
        Assert.True(cc.InSlowStart);
    }
}
