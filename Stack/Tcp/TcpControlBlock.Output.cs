using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

// Timers and transmission (RFC 9293 §3.8): retransmission (RFC 6298), persist / zero-window
// probes (§3.8.6.1), delayed ACK (§3.8.6.3), keep-alive (§3.8.4), TIME-WAIT and FIN-WAIT-2
// expiry; sender silly-window avoidance and Nagle (§3.8.6.2.1, §3.7.4); receiver window
// advertisement with SWS avoidance (§3.8.6.2.2) and window scaling (RFC 7323 §2.3).
public sealed partial class TcpControlBlock
{
    private bool _ackNow;
    private int _segmentsSinceAck;
    private TimeSpan? _rtoDeadline, _persistDeadline, _delayedAckDeadline, _keepAliveDeadline, _closeDeadline;
    private int _keepAliveProbesSent;
    private int _persistBackoff;
    private int _unansweredWindowProbes;
    private bool _sendWindowProbe, _sendKeepAlive;
    private (TcpSeqNumber Seq, TcpSeqNumber Ack, TcpFlags Flags)? _pendingReset;

    /// <summary>
    /// When <see cref="Poll"/> must next be called: <see cref="TimeSpan.Zero"/> for "now", null when
    /// nothing is scheduled (the connection is idle with no timer, or closed).
    /// </summary>
    public TimeSpan? PollAt
    {
        get
        {
            if (_needsPoll || _ackNow || _pendingReset.HasValue) return TimeSpan.Zero;
            TimeSpan? at = null;
            foreach (var d in (ReadOnlySpan<TimeSpan?>)[_rtoDeadline, _persistDeadline, _delayedAckDeadline, _keepAliveDeadline, _closeDeadline, _probeDeadline])
            {
                if (d is TimeSpan t && (at is null || t < at)) at = t;
            }
            return at;
        }
    }

    /// <summary>Runs expired timers and transmits everything that is due.</summary>
    public void Poll(TimeSpan now, ITcpSegmentSink sink)
    {
        _needsPoll = false;
        RunTimers(now);
        if (_pendingReset is { } r)
        {
            _pendingReset = null;
            var header = new TcpHeader(Tuple.LocalPort, Tuple.RemotePort, r.Seq, r.Ack, r.Flags, 0);
            sink.Transmit(Tuple, header, default);
            _counters.SegmentsSent++;
            _counters.ResetsSent++;
        }
        switch (State)
        {
            case TcpState.Closed:
            case TcpState.Listen:
                return;
            case TcpState.SynSent:
            case TcpState.SynReceived:
                if (_sndNxt == _iss) TransmitSyn(now, sink);
                return;
            case TcpState.TimeWait:
                if (_ackNow) Emit(now, sink, _sndMax, TcpFlags.Ack, 0);
                return;
        }
        TransmitData(now, sink);
        if (_sendKeepAlive)
        {
            // RFC 9293 §3.8.4: a probe one below SND.UNA the peer must acknowledge.
            _sendKeepAlive = false;
            Emit(now, sink, _sndUna - 1, TcpFlags.Ack, 0);
        }
        // A pure ACK carries SND.MAX, not SND.NXT: while going back N after a timeout SND.NXT lies below
        // the peer's RCV.NXT, and two peers doing that would answer each other's "old" ACKs forever.
        if (_ackNow) Emit(now, sink, _sndMax, TcpFlags.Ack, 0);
    }

    private void QueueReset(TcpSeqNumber seq, TcpSeqNumber ack, TcpFlags flags)
    {
        _pendingReset = (seq, ack, flags);
        _needsPoll = true;
    }

    private void RunTimers(TimeSpan now)
    {
        if (_closeDeadline <= now)
        {
            _closeDeadline = null;
            if (State is TcpState.TimeWait or TcpState.FinWait2) EnterClosed(TcpError.None);
            if (State is TcpState.SynSent or TcpState.SynReceived) EnterClosed(TcpError.TimedOut); // connect timeout
            return;
        }
        if (_rtoDeadline <= now) OnRetransmitTimeout(now);
        if (_probeDeadline <= now)
        {
            _probeDeadline = null;
            _probeDue = true;
        }
        if (_persistDeadline <= now)
        {
            _persistDeadline = null;
            // RFC 9293 §3.8.6.1: the connection stays open as long as the peer answers the probes; a
            // peer gone silent behind a zero window times out like unacknowledged data.
            if (_sndWnd == 0 && _unansweredWindowProbes >= _settings.MaxRetransmissions)
            {
                QueueReset(_sndNxt, default, TcpFlags.Rst);
                EnterClosed(TcpError.TimedOut);
                return;
            }
            _sendWindowProbe = true;
        }
        if (_delayedAckDeadline <= now)
        {
            _delayedAckDeadline = null;
            _ackNow = true;
        }
        if (_keepAliveDeadline <= now)
        {
            if (_keepAliveProbesSent >= _settings.KeepAliveProbes)
            {
                QueueReset(_sndNxt, default, TcpFlags.Rst);
                EnterClosed(TcpError.TimedOut);
                return;
            }
            if (FlightSize == 0 && State == TcpState.Established)
            {
                _sendKeepAlive = true;
                _keepAliveProbesSent++;
            }
            _keepAliveDeadline = now + _settings.KeepAliveInterval;
        }
    }

    private void ArmKeepAlive(TimeSpan now)
    {
        if (_settings.KeepAliveIdle is TimeSpan idle && State == TcpState.Established) _keepAliveDeadline = now + idle;
        else _keepAliveDeadline = null;
    }

    private void TransmitSyn(TimeSpan now, ITcpSegmentSink sink)
    {
        var flags = State == TcpState.SynSent ? TcpFlags.Syn : TcpFlags.Syn | TcpFlags.Ack;
        bool retransmission = _sndMax != _iss;
        Emit(now, sink, _iss, flags, 0, retransmission);
        _sndNxt = _iss + 1;
        _sndMax = TcpSeqNumber.Max(_sndMax, _sndNxt);
        _rtoDeadline ??= now + _rtt.Rto;
    }

    private void TransmitData(TimeSpan now, ITcpSegmentSink sink)
    {
        if (_fastRetransmitPending)
        {
            _fastRetransmitPending = false;
            int len = Math.Min(_sndMss, Math.Max(_sndBufSeq + _sendBuffer.Count - _sndUna, 0));
            bool fin = _finQueued && _sndUna + len == FinSequence;
            if (len > 0 || fin)
            {
                Emit(now, sink, _sndUna, TcpFlags.Ack | (fin ? TcpFlags.Fin : 0), len, retransmission: true);
                _holeCursor = _sndUna + len;
            }
        }
        while (_holeCredits > 0 && NextHole(out var start, out int length))
        {
            _holeCredits--;
            Emit(now, sink, start, TcpFlags.Ack, length, retransmission: true);
            _holeCursor = start + length;
        }
        _holeCredits = 0;

        var bufEnd = _sndBufSeq + _sendBuffer.Count;
        bool sentNew = false;
        while (true)
        {
            // After a timeout we resend from SND.UNA; skip what the peer reported holding.
            if (_sndNxt < _sndMax && _scoreboard.IsSacked(_sndNxt, out var sackEnd))
            {
                _sndNxt = TcpSeqNumber.Min(sackEnd, _sndMax);
                continue;
            }
            int avail = Math.Max(bufEnd - _sndNxt, 0);
            bool finPending = _finQueued && _sndNxt <= bufEnd;
            int usable = Math.Min(_congestion.Window, _sndWnd) - (_sndNxt - _sndUna);
            bool retransmission = _sndNxt < _sndMax;
            // New data may leave in one TSO burst of several MSS; anything resent goes one MSS at a time,
            // so a loss inside a burst costs only the lost segments.
            int len = Math.Min(Math.Min(avail, retransmission ? _sndMss : MaxBurst), Math.Max(usable, 0));
            if (len > _sndMss && len % _sndMss != 0)
            {
                // A burst ends on a segment boundary unless its short tail is all that is queued and Nagle
                // would send it anyway (Linux's tcp_mss_split_point).
                bool tailAllowed = len == avail && (_settings.NoDelay || _sndNxt == _sndUna || _finQueued);
                if (!tailAllowed) len -= len % _sndMss;
            }
            if (len == 0 && !(finPending && avail == 0)) break;
            if (len > 0 && len < _sndMss && !retransmission)
            {
                bool allQueued = len == avail;
                bool nagleAllows = _settings.NoDelay || _sndNxt == _sndUna || _finQueued;
                bool halfWindow = _maxSndWnd > 0 && len >= _maxSndWnd / 2;
                if (!(allQueued && nagleAllows) && !halfWindow) break;
            }
            bool fin = finPending && _sndNxt + len == bufEnd;
            if (!_timestamps && _rttSeq is null && !retransmission && len > 0)
            {
                _rttSeq = _sndNxt + len;
                _rttStart = now;
            }
            Emit(now, sink, _sndNxt, TcpFlags.Ack | (fin ? TcpFlags.Fin : 0) | (len == avail && len > 0 ? TcpFlags.Psh : 0), len, retransmission);
            sentNew |= !retransmission;
            _sndNxt += len + (fin ? 1 : 0);
            _sndMax = TcpSeqNumber.Max(_sndMax, _sndNxt);
            _rtoDeadline ??= now + _rtt.Rto; // RFC 6298 §5.1
            if (fin) break;
        }
        if (_probeDue)
        {
            if (sentNew) _probeDue = false; // new data was the probe
            else SendTailLossProbe(now, sink);
        }
        if (sentNew) ArmTailLossProbe(now);

        // RFC 9293 §3.8.6.1 zero-window probes, and §3.8.6.2.1 (d) the override timeout when silly-window
        // avoidance holds data back with nothing in flight: both run on the persist timer.
        int waiting = bufEnd - _sndNxt;
        if (waiting > 0 && _sndNxt == _sndUna)
        {
            if (_sendWindowProbe)
            {
                _sendWindowProbe = false;
                if (_sndWnd == 0) _unansweredWindowProbes++;
                _persistBackoff = Math.Min(_persistBackoff + 1, 6);
                _persistDeadline = null;
                int len = Math.Min(Math.Min(waiting, _sndMss), Math.Max(Math.Min(_congestion.Window, _sndWnd), 1));
                Emit(now, sink, _sndUna, TcpFlags.Ack, len, retransmission: false);
                if (_sndWnd == 0)
                {
                    _sndMax = TcpSeqNumber.Max(_sndMax, _sndUna + len); // probe: may be accepted, never timed
                }
                else
                {
                    _sndNxt += len;
                    _sndMax = TcpSeqNumber.Max(_sndMax, _sndNxt);
                    _rtoDeadline ??= now + _rtt.Rto;
                }
            }
            if (_persistDeadline is null && _sndNxt == _sndUna)
            {
                var interval = _rtt.Rto * (1 << _persistBackoff);
                _persistDeadline = now + (interval > _settings.MaxRto ? _settings.MaxRto : interval);
            }
        }
        else
        {
            _persistDeadline = null;
            _persistBackoff = 0;
            _sendWindowProbe = false;
        }
    }

    private uint TimestampNow(TimeSpan now) => TimestampClock(now, _tsOffset);

    /// <summary>RFC 7323 §5.4: a 1 ms timestamp clock, offset per connection (the offset is the ISS).</summary>
    internal static uint TimestampClock(TimeSpan now, uint offset) => unchecked((uint)(long)now.TotalMilliseconds + offset);

    /// <summary>Builds and hands one segment to the sink; every segment but the first SYN carries an ACK.</summary>
    private void Emit(TimeSpan now, ITcpSegmentSink sink, TcpSeqNumber seq, TcpFlags flags, int length, bool retransmission = false)
    {
        bool syn = (flags & TcpFlags.Syn) != 0;
        var options = new TcpOptions();
        bool offering = State == TcpState.SynSent; // our first SYN offers everything we support
        if (syn)
        {
            options = options with { MaxSegmentSize = _settings.MaxSegmentSize };
            if (offering ? _settings.WindowScaling : _windowScaleAgreed)
                options = options with { WindowScale = _rcvScale };
            if (offering ? _settings.SelectiveAck : _sack) options = options with { SackPermitted = true };
        }
        if (_timestamps || (offering && _settings.Timestamps))
        {
            options = options with { Timestamps = new TcpTimestamps(TimestampNow(now), offering ? 0 : _tsRecent) };
        }
        if (_sack && !syn && !_assembler.IsEmpty) options = options with { Sack = BuildSackBlocks() };

        ushort window = syn ? (ushort)Math.Min(_receiveBuffer.Free, ushort.MaxValue) : AdvertiseWindow();
        if (syn && State == TcpState.SynReceived) _rcvAdvertisedEdge = _rcvNxt + window;
        var ack = (flags & TcpFlags.Ack) != 0 ? _rcvNxt : default;
        var header = new TcpHeader(Tuple.LocalPort, Tuple.RemotePort, seq, ack, flags, window, options);
        // Straight from the send buffer unless the bytes wrap around its end (then via the scratch copy).
        ReadOnlySpan<byte> payload = default;
        if (length > 0 && !_sendBuffer.TryGetContiguous(seq - _sndBufSeq, length, out payload))
        {
            if (_scratch.Length < length) _scratch = new byte[Math.Max(length, MaxBurst)];
            var copy = _scratch.AsSpan(0, length);
            _sendBuffer.Peek(seq - _sndBufSeq, copy);
            payload = copy;
        }
        if (length > _sndMss) sink.TransmitLarge(Tuple, header, payload, _sndMss);
        else sink.Transmit(Tuple, header, payload);

        _counters.SegmentsSent++;
        if (retransmission) _counters.Retransmissions++;
        if ((flags & TcpFlags.Ack) != 0)
        {
            _lastAckSent = _rcvNxt;
            _ackNow = false;
            _delayedAckDeadline = null;
            _segmentsSinceAck = 0;
        }
    }

    /// <summary>RFC 9293 §3.8.6.2.2: move the right edge only by at least min(buffer/2, MSS); never shrink it.</summary>
    private ushort AdvertiseWindow()
    {
        int free = (_receiveBuffer.Free >> _rcvScale) << _rcvScale;
        free = Math.Min(free, ushort.MaxValue << _rcvScale);
        var edge = _rcvNxt + free;
        if (edge > _rcvAdvertisedEdge)
        {
            int growth = edge - _rcvAdvertisedEdge;
            if (growth >= Math.Min(_receiveBuffer.Capacity / 2, _settings.MaxSegmentSize)) _rcvAdvertisedEdge = edge;
        }
        int window = Math.Max(_rcvAdvertisedEdge - _rcvNxt, 0);
        return (ushort)Math.Min(window >> _rcvScale, ushort.MaxValue);
    }

    /// <summary>RFC 2018 §4: the first block holds the most recent arrival, then the others in order.</summary>
    private TcpSackBlocks BuildSackBlocks()
    {
        int max = _timestamps ? 3 : 4;
        Span<TcpSackBlock> blocks = stackalloc TcpSackBlock[4];
        int n = 0;
        int latest = _assembler.LatestStart;
        for (int i = 0; i < _assembler.RangeCount && n < max; i++)
        {
            var (s, e) = _assembler[i];
            if (s == latest) blocks[n++] = new TcpSackBlock(_rcvNxt + s, _rcvNxt + e);
        }
        for (int i = 0; i < _assembler.RangeCount && n < max; i++)
        {
            var (s, e) = _assembler[i];
            if (s != latest) blocks[n++] = new TcpSackBlock(_rcvNxt + s, _rcvNxt + e);
        }
        return new TcpSackBlocks(blocks[..n]);
    }
}
