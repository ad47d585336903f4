namespace Apps.Stack.Tcp;

/// <summary>
/// CUBIC congestion window (RFC 9438) in bytes, with slow start per RFC 5681 and the initial
/// window of RFC 6928. Loss recovery (NewReno, RFC 6582) drives it through <see cref="OnCongestion"/>,
/// <see cref="SetWindow"/> and <see cref="OnRetransmitTimeout"/>.
/// </summary>
internal sealed class CubicCongestionControl
{
    private const double C = 0.4;          // RFC 9438 §5.1
    private const double Beta = 0.7;       // RFC 9438 §4.6
    private const double Alpha = 3 * (1 - Beta) / (1 + Beta); // RFC 9438 §4.3
    private readonly int _mss;
    private readonly int _maxWindow;
    private readonly int _slowStartStep;
    private double _cwnd;
    private double _wMax;                  // segments
    private double _wEst;                  // segments
    private double _k;                     // seconds
    private double _cwndEpoch;             // segments
    private TimeSpan? _epochStart;

    /// <param name="mss">The sender MSS.</param>
    /// <param name="maxWindow">The send buffer: the window never grows beyond it.</param>
    /// <param name="burst">
    /// Bytes in one segmentation-offload burst (0 without offload). A peer that takes a burst whole acknowledges
    /// it with one ACK (as Linux does after GRO), so slow start may grow by up to one burst per ACK instead of
    /// RFC 3465's L = 2 MSS, which would otherwise slow it down by the burst's number of segments.
    /// </param>
    public CubicCongestionControl(int mss, int maxWindow, int burst = 0)
    {
        _mss = mss;
        _slowStartStep = Math.Max(2 * mss, burst);
        _maxWindow = Math.Max(maxWindow, 2 * mss);
        _cwnd = Math.Min(10 * mss, Math.Max(2 * mss, 14600)); // RFC 6928 §2
        SlowStartThreshold = maxWindow;
    }

    /// <summary>The congestion window in bytes, never above the send buffer (RFC 9438 §5.8: no growth beyond what can be used).</summary>
    public int Window => (int)Math.Min(_cwnd, _maxWindow);
    public int SlowStartThreshold { get; private set; }
    public bool InSlowStart => _cwnd < SlowStartThreshold;

    /// <summary>New data acknowledged outside loss recovery.</summary>
    public void OnAck(int ackedBytes, TimeSpan now, TimeSpan rtt)
    {
        if (_cwnd >= _maxWindow) { _cwnd = _maxWindow; return; }
        if (InSlowStart)
        {
            _cwnd += Math.Min(ackedBytes, _slowStartStep); // RFC 5681 §3.1 with RFC 3465 L = 2 (one burst with TSO)
            return;
        }
        if (_epochStart is null)
        {
            // RFC 9438 §4.2: a congestion-avoidance epoch starting without a prior loss.
            _epochStart = now;
            _cwndEpoch = _cwnd / _mss;
            if (_wMax < _cwndEpoch) { _wMax = _cwndEpoch; _k = 0; }
            else _k = Math.Cbrt((_wMax - _cwndEpoch) / C);
            _wEst = _cwndEpoch;
        }
        double segments = _cwnd / _mss;
        double acked = (double)ackedBytes / _mss;
        double t = (now - _epochStart.Value).TotalSeconds;
        // RFC 9438 §4.3: Reno-friendly estimate.
        _wEst += Alpha * acked / segments;
        double wCubicNow = CubicWindow(t);
        if (wCubicNow < _wEst)
        {
            _cwnd = Math.Max(_cwnd, _wEst * _mss);
            return;
        }
        // RFC 9438 §4.4: concave/convex growth toward W_cubic(t + RTT), bounded to [cwnd, 1.5 cwnd].
        double target = Math.Clamp(CubicWindow(t + rtt.TotalSeconds), segments, 1.5 * segments);
        _cwnd += (target - segments) / segments * acked * _mss;
    }

    /// <summary>RFC 9438 §4.6-4.7: a loss detected by duplicate ACKs; returns the new ssthresh.</summary>
    public int OnCongestion(TimeSpan now, int flightSize)
    {
        double segments = _cwnd / _mss;
        // §4.7 fast convergence.
        _wMax = segments < _wMax ? segments * (1 + Beta) / 2 : segments;
        double reduced = Math.Max(flightSize, _mss) * Beta;
        SlowStartThreshold = (int)Math.Max(reduced, 2 * _mss);
        _cwndEpoch = SlowStartThreshold / (double)_mss;
        _k = _wMax > _cwndEpoch ? Math.Cbrt((_wMax - _cwndEpoch) / C) : 0;
        _wEst = _cwndEpoch;
        _epochStart = now;
        return SlowStartThreshold;
    }

    /// <summary>RFC 9438 §4.8 / RFC 5681 §3.1: after an RTO the window restarts from one segment.</summary>
    public void OnRetransmitTimeout(TimeSpan now, int flightSize)
    {
        OnCongestion(now, flightSize);
        _epochStart = null;
        _cwnd = _mss;
    }

    /// <summary>Sets the window directly (NewReno inflation and deflation, RFC 6582 §3.2).</summary>
    public void SetWindow(int bytes) => _cwnd = Math.Max(bytes, _mss);

    private double CubicWindow(double t) => C * Math.Pow(t - _k, 3) + _wMax; // RFC 9438 §4.2 eq. 1
}
