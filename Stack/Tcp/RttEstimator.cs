namespace Apps.Stack.Tcp;

/// <summary>
/// Retransmission timer computation of RFC 6298: SRTT/RTTVAR smoothing (§2), clock granularity
/// G = 1 ms, bounds (§2.4, §2.5) and exponential backoff (§5.5).
/// </summary>
internal sealed class RttEstimator
{
    private static readonly TimeSpan Granularity = TimeSpan.FromMilliseconds(1);
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;
    private TimeSpan _baseRto;
    private int _backoff;

    public RttEstimator(TimeSpan initial, TimeSpan min, TimeSpan max)
    {
        _min = min;
        _max = max;
        _baseRto = Clamp(initial);
    }

    public TimeSpan? SmoothedRtt { get; private set; }
    public TimeSpan RttVariance { get; private set; }

    /// <summary>Current RTO including backoff.</summary>
    public TimeSpan Rto
    {
        get
        {
            var rto = _baseRto;
            for (int i = 0; i < _backoff && rto < _max; i++) rto += rto;
            return rto > _max ? _max : rto;
        }
    }

    public int Backoffs => _backoff;

    /// <summary>RFC 6298 §2.2/§2.3: takes one RTT measurement (never from a retransmitted segment, Karn).</summary>
    public void Sample(TimeSpan rtt)
    {
        if (rtt < TimeSpan.Zero) return;
        if (SmoothedRtt is not TimeSpan srtt)
        {
            SmoothedRtt = rtt;
            RttVariance = rtt / 2;
        }
        else
        {
            var delta = srtt > rtt ? srtt - rtt : rtt - srtt;
            RttVariance = RttVariance * 0.75 + delta * 0.25;
            SmoothedRtt = srtt * 0.875 + rtt * 0.125;
        }
        var variance = RttVariance * 4;
        _baseRto = Clamp(SmoothedRtt.Value + (variance > Granularity ? variance : Granularity));
        _backoff = 0; // §5.7: a new sample after backoff recomputes RTO from the estimate.
    }

    /// <summary>RFC 6298 §5.5: doubles the RTO after a timeout.</summary>
    public void Backoff()
    {
        if (Rto < _max) _backoff++;
    }

    public void ResetBackoff() => _backoff = 0;

    /// <summary>
    /// RFC 6298 §5.7: after the SYN timed out, data starts with an RTO of at least <paramref name="rto"/>
    /// (3 s), without the handshake's backoff; a real sample, if there is one, stands.
    /// </summary>
    public void RestartAfterLostHandshake(TimeSpan rto)
    {
        _backoff = 0;
        if (SmoothedRtt is null && _baseRto < rto) _baseRto = Clamp(rto);
    }

    private TimeSpan Clamp(TimeSpan rto) => rto < _min ? _min : rto > _max ? _max : rto;
}
