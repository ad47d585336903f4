using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

// ACK processing (RFC 9293 §3.10.7.4 fifth check, RFC 5961 §5 ACK validation), RTT sampling
// (RFC 6298, RFC 7323 §4), SACK scoreboard (RFC 2018) and NewReno fast retransmit / fast
// recovery (RFC 6582 §3.2) feeding the CUBIC window. With SACK, each duplicate ACK during
// recovery retransmits the next unSACKed hole instead of inflating the window.
public sealed partial class TcpControlBlock
{
    private int _dupAcks;
    private bool _inRecovery;
    private TcpSeqNumber _recover;
    private TcpSeqNumber _holeCursor;
    private bool _fastRetransmitPending;
    private int _holeCredits;
    private TcpSeqNumber? _rttSeq;
    private TimeSpan _rttStart;
    private int _retries;

    /// <summary>Sequence number our FIN occupies (meaningful once the application closed).</summary>
    private TcpSeqNumber FinSequence => _sndBufSeq + _sendBuffer.Count;

    private int FlightSize => _sndMax - _sndUna;

    /// <summary>Returns false when the segment must be dropped.</summary>
    private bool ProcessAck(in TcpHeader seg, int payloadLength, TimeSpan now)
    {
        var ack = seg.Acknowledgment;
        if (ack > _sndMax)
        {
            // RFC 9293 §3.10.7.4: an ACK for something not yet sent is answered with an ACK and dropped.
            _counters.InvalidAcks++;
            _ackNow = true;
            return false;
        }
        if (ack < _sndUna - Math.Max(_maxSndWnd, 1))
        {
            // RFC 5961 §5.2: older than SND.UNA - MAX.SND.WND: challenge ACK, drop.
            _counters.InvalidAcks++;
            ChallengeAck(now);
            return false;
        }

        int sackedBefore = _scoreboard.SackedBytes;
        if (_sack)
        {
            var blocks = seg.Options.Sack;
            for (int i = 0; i < blocks.Count; i++)
            {
                var b = blocks[i];
                // RFC 2018 §5: ignore blocks outside what is outstanding (D-SACKs and forgeries).
                if (b.Left >= ack && b.Left < b.Right && b.Right <= _sndMax) _scoreboard.Add(b.Left, b.Right);
            }
        }

        int scaledWindow = seg.Window << _sndScale;
        if (ack > _sndUna)
        {
            AcknowledgeTo(ack, now, seg);
        }
        else if (ack == _sndUna && payloadLength == 0 && (seg.Flags & (TcpFlags.Syn | TcpFlags.Fin)) == 0
            && _sndNxt > _sndUna && _sndWnd != 0
            // RFC 5681 §2: same window; RFC 6675 §2: or it SACKs new data (receivers such as Linux
            // move their window while reporting losses, which would hide every duplicate ACK).
            && (scaledWindow == _sndWnd || _scoreboard.SackedBytes > sackedBefore))
        {
            OnDuplicateAck(now);
        }

        // RFC 9293 §3.10.7.4: window update only from a newer segment (SND.WL1/SND.WL2).
        if (_sndWl1 < seg.Sequence || (_sndWl1 == seg.Sequence && _sndWl2 <= ack))
        {
            _sndWnd = scaledWindow;
            _maxSndWnd = Math.Max(_maxSndWnd, _sndWnd);
            _sndWl1 = seg.Sequence;
            _sndWl2 = ack;
        }
        return true;
    }

    /// <summary>SND.UNA advances to <paramref name="ack"/>: release data, sample RTT, grow or deflate the window.</summary>
    private void AcknowledgeTo(TcpSeqNumber ack, TimeSpan now, in TcpHeader seg)
    {
        int acked = ack - _sndUna;
        var dataEnd = TcpSeqNumber.Min(ack, _sndBufSeq + _sendBuffer.Count);
        int dataAcked = Math.Max(dataEnd - _sndBufSeq, 0);
        if (dataAcked > 0)
        {
            _sendBuffer.Consume(dataAcked);
            _sndBufSeq += dataAcked;
            Raise(TcpEvents.Writable);
        }
        bool synAcked = _sndUna == _iss;
        bool handshakeTimedOut = synAcked && _retries > 0;
        _sndUna = ack;
        if (_sndNxt < _sndUna) _sndNxt = _sndUna;
        _scoreboard.Acknowledge(ack);
        _retries = 0;

        // RTT: RFC 7323 §4.1 from the echoed timestamp, else RFC 6298 §3 timing one segment (Karn).
        if (_timestamps && seg.Options.Timestamps is TcpTimestamps ts && ts.EchoReply != 0)
        {
            uint elapsed = unchecked(TimestampNow(now) - ts.EchoReply);
            if (elapsed < int.MaxValue) _rtt.Sample(TimeSpan.FromMilliseconds(elapsed));
        }
        else if (_rttSeq is TcpSeqNumber timed && ack >= timed)
        {
            _rtt.Sample(now - _rttStart);
            _rttSeq = null;
        }
        if (handshakeTimedOut) AfterLostHandshake();

        if (_inRecovery)
        {
            if (ack >= _recover)
            {
                // RFC 6582 §3.2 step 3 (full acknowledgment), option 1.
                _inRecovery = false;
                _dupAcks = 0;
                _congestion.SetWindow(Math.Min(_congestion.SlowStartThreshold, Math.Max(FlightSize, _sndMss) + _sndMss));
            }
            else
            {
                // Step 5 (partial acknowledgment): retransmit the first unacknowledged segment, deflate.
                _congestion.SetWindow(_congestion.Window - acked + (acked >= _sndMss ? _sndMss : 0));
                if (_holeCursor <= _sndUna) _fastRetransmitPending = true;
            }
        }
        else
        {
            _dupAcks = 0;
            if (!synAcked && acked > 0) _congestion.OnAck(acked, now, _rtt.SmoothedRtt ?? _rtt.Rto);
        }

        // RFC 6298 §5.2/§5.3: stop the timer when all is acknowledged, else restart it.
        _rtoDeadline = _sndMax == _sndUna ? null : now + _rtt.Rto;
        _probeSent = false;
        ArmTailLossProbe(now);
    }

    private void OnDuplicateAck(TimeSpan now)
    {
        _dupAcks++;
        if (_inRecovery)
        {
            if (_sack && NextHole(out _, out _)) _holeCredits = Math.Min(_holeCredits + 1, 64);
            else _congestion.SetWindow(_congestion.Window + _sndMss); // RFC 6582 §3.2 step 4
            return;
        }
        // RFC 6582 §3.2 step 2: only when the ACK covers more than `recover` (avoids multiple reductions).
        // RFC 6675 §5 IsLost: with SACK, DupThresh segments SACKed above SND.UNA also mean a loss.
        bool lost = _dupAcks >= 3 || (_sack && _scoreboard.SackedBytes >= 3 * _sndMss);
        if (!lost || _sndUna < _recover) return;
        _counters.FastRetransmits++;
        _recover = _sndMax;
        int ssthresh = _congestion.OnCongestion(now, FlightSize);
        _congestion.SetWindow(ssthresh + 3 * _sndMss);
        _inRecovery = true;
        CancelTailLossProbe();
        _fastRetransmitPending = true;
        _holeCursor = _sndUna;
        _rttSeq = null;
    }

    /// <summary>The next unSACKed range below the highest SACKed byte, starting at the hole cursor.</summary>
    private bool NextHole(out TcpSeqNumber start, out int length)
    {
        var cursor = TcpSeqNumber.Max(_holeCursor, _sndUna);
        while (_scoreboard.IsSacked(cursor, out var end)) cursor = end;
        var high = _scoreboard.HighestSacked(_sndUna);
        start = cursor;
        length = 0;
        if (cursor >= high) return false;
        var dataEnd = _sndBufSeq + _sendBuffer.Count;
        length = Math.Min(TcpSeqNumber.Min(_scoreboard.NextSackedAfter(cursor, high), dataEnd) - cursor, _sndMss);
        return length > 0;
    }

    /// <summary>
    /// Our SYN or SYN-ACK timed out before this handshake completed. RFC 5681 §3.1 (RFC 6928 §2): the
    /// initial window is then one segment. RFC 6298 §5.7: the RTO starts again from 3 s, unless the
    /// handshake still gave an RTT sample (a timestamp echo is never ambiguous).
    /// </summary>
    private void AfterLostHandshake()
    {
        _congestion.SetWindow(_sndMss);
        _rtt.RestartAfterLostHandshake(LostHandshakeRto);
    }

    private static readonly TimeSpan LostHandshakeRto = TimeSpan.FromSeconds(3);

    /// <summary>RFC 6298 §5.4-5.7 and RFC 5681 §3.1: the retransmission timer expired.</summary>
    private void OnRetransmitTimeout(TimeSpan now)
    {
        _counters.RetransmissionTimeouts++;
        _retries++;
        int limit = State is TcpState.SynSent or TcpState.SynReceived ? _settings.MaxSynRetransmissions : _settings.MaxRetransmissions;
        if (_retries > limit)
        {
            if (State != TcpState.SynSent) QueueReset(_sndNxt, default, TcpFlags.Rst);
            EnterClosed(TcpError.TimedOut);
            return;
        }
        if (_sndUna != _iss) _congestion.OnRetransmitTimeout(now, FlightSize);
        _rtt.Backoff();
        // RFC 2018 §8: the receiver may renege on SACKed data. Keep the scoreboard across the first
        // timeout (it spares resending what the peer holds) but clear it when the same data times out
        // again, so reneged data cannot stall the connection.
        if (_retries > 1) _scoreboard.Clear();
        _inRecovery = false;
        _dupAcks = 0;
        _holeCredits = 0;
        _fastRetransmitPending = false;
        _recover = _sndMax; // RFC 6582 §3.2 step 1 after a timeout
        _rttSeq = null;
        _sndNxt = _sndUna; // go back N: resend from the oldest unacknowledged byte
        _rtoDeadline = null;
        CancelTailLossProbe();
    }
}
