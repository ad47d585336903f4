using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

// RFC 8985 §7 Tail Loss Probe, simplified. When the last segments of a flight are lost no duplicate
// ACKs come back, and only the retransmission timer would recover them. After PTO = 2·SRTT (plus a
// delayed-ACK allowance when a single segment is in flight) without progress, the last segment is
// sent again once: the peer's ACK, with SACK, then reveals the loss a whole RTO earlier. New data
// sent at that moment serves as the probe instead.
public sealed partial class TcpControlBlock
{
    private static readonly TimeSpan DelayedAckAllowance = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MinProbeTimeout = TimeSpan.FromMilliseconds(10);
    private TimeSpan? _probeDeadline;
    private bool _probeDue, _probeSent;

    /// <summary>(Re)schedules the probe after new data went out or an ACK made progress.</summary>
    private void ArmTailLossProbe(TimeSpan now)
    {
        _probeDeadline = null;
        if (_probeSent || _inRecovery || _rtt.SmoothedRtt is not TimeSpan srtt || _sndNxt == _sndUna || _sndWnd == 0) return;
        var timeout = srtt * 2;
        if (FlightSize <= _sndMss) timeout += DelayedAckAllowance; // RFC 8985 §7.2: the peer may delay its ACK
        if (timeout < MinProbeTimeout) timeout = MinProbeTimeout;
        var at = now + timeout;
        if (_rtoDeadline is TimeSpan rto && at >= rto) return; // the retransmission timer comes first anyway
        _probeDeadline = at;
    }

    /// <summary>RFC 8985 §7.3: resend the last segment in flight; the RTO restarts after a probe.</summary>
    private void SendTailLossProbe(TimeSpan now, ITcpSegmentSink sink)
    {
        _probeDue = false;
        var end = TcpSeqNumber.Min(_sndNxt, _sndBufSeq + _sendBuffer.Count);
        int length = Math.Min(end - _sndUna, _sndMss);
        if (length <= 0) return; // only a FIN in flight: the RTO handles it
        Emit(now, sink, end - length, TcpFlags.Ack, length, retransmission: true);
        _probeSent = true;
        _counters.TailLossProbes++;
        _rtoDeadline = now + _rtt.Rto;
    }

    private void CancelTailLossProbe()
    {
        _probeDeadline = null;
        _probeDue = false;
    }
}
