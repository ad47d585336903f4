using Apps.Stack.Tcp;

namespace Apps.Stack.Tests.Tcp;

/// <summary>RFC 6298 §2 and §5 arithmetic.</summary>
public class RttEstimatorTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Starts_at_the_initial_rto()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), new RttEstimator(TimeSpan.FromSeconds(1), Ms(200), TimeSpan.FromSeconds(60)).Rto);
    }

    [Fact]
    public void First_and_second_samples_follow_rfc6298_section2()
    {
        var rtt = new RttEstimator(TimeSpan.FromSeconds(1), Ms(200), TimeSpan.FromSeconds(60));
        rtt.Sample(Ms(100));                 // SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR
        Assert.Equal(Ms(100), rtt.SmoothedRtt);
        Assert.Equal(Ms(300), rtt.Rto);
        rtt.Sample(Ms(200));                 // RTTVAR = 3/4*50 + 1/4*100; SRTT = 7/8*100 + 1/8*200
        Assert.Equal(Ms(112.5), rtt.SmoothedRtt);
        Assert.Equal(Ms(62.5), rtt.RttVariance);
        Assert.Equal(Ms(362.5), rtt.Rto);
    }

    [Fact]
    public void Rto_is_clamped_to_the_minimum()
    {
        var rtt = new RttEstimator(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        rtt.Sample(Ms(10));
        Assert.Equal(TimeSpan.FromSeconds(1), rtt.Rto);
    }

    [Fact]
    public void Backoff_doubles_up_to_the_maximum_and_a_new_sample_resets_it()
    {
        var rtt = new RttEstimator(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        rtt.Backoff();
        Assert.Equal(TimeSpan.FromSeconds(2), rtt.Rto);
        for (int i = 0; i < 10; i++) rtt.Backoff();
        Assert.Equal(TimeSpan.FromSeconds(60), rtt.Rto);
        rtt.Sample(Ms(100));
        Assert.Equal(TimeSpan.FromSeconds(1), rtt.Rto);
    }
}
