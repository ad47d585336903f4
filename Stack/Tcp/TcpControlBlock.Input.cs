using System.Buffers;
using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

// RFC 9293 §3.10.7 "SEGMENT ARRIVES", with RFC 5961 (blind RST/SYN/data mitigations) and
// RFC 7323 §5 (PAWS). Check order for synchronized states follows the RFC: sequence number,
// RST, SYN, ACK, URG (ignored: urgent data is delivered inline), text, FIN.
public sealed partial class TcpControlBlock
{
    private TimeSpan _lastReceived;
    private TimeSpan _challengeWindowStart;
    private int _challengeAcksInWindow;

    /// <summary>Processes one inbound segment addressed to this connection. Call <see cref="Poll"/> afterwards.</summary>
    public void Receive(in TcpHeader segment, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        _counters.SegmentsReceived++;
        _needsPoll = true;
        switch (State)
        {
            case TcpState.Closed:
            case TcpState.Listen:
                return;
            case TcpState.SynSent:
                ReceiveInSynSent(segment, payload, now);
                return;
            default:
                ReceiveSynchronized(segment, payload, now);
                if (_receiveShutdown) DiscardReceived();
                return;
        }
    }

    /// <summary>RFC 9293 §3.10.7.3.</summary>
    private void ReceiveInSynSent(in TcpHeader seg, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        var flags = seg.Flags;
        bool ack = (flags & TcpFlags.Ack) != 0;
        if (ack && (seg.Acknowledgment <= _iss || seg.Acknowledgment > _sndMax))
        {
            if ((flags & TcpFlags.Rst) == 0) QueueReset(seg.Acknowledgment, default, TcpFlags.Rst);
            _counters.InvalidAcks++;
            return;
        }
        if ((flags & TcpFlags.Rst) != 0)
        {
            // RFC 5961 §3.2 keeps the SYN-SENT rule: only an RST acknowledging our SYN is believed.
            _counters.ResetsReceived++;
            if (ack) EnterClosed(TcpError.ConnectionRefused);
            return;
        }
        if ((flags & TcpFlags.Syn) == 0) return;
        TakePeerSyn(seg);
        _lastReceived = now;
        if (ack)
        {
            AcknowledgeTo(seg.Acknowledgment, now, seg);
            State = TcpState.Established;
            _closeDeadline = null; // the connect timeout
            _sndWl1 = seg.Sequence;
            _sndWl2 = seg.Acknowledgment;
            Raise(TcpEvents.Established);
            ArmKeepAlive(now);
            _ackNow = true;
            // Data or FIN carried on the SYN-ACK follows the normal text rules, one past the SYN.
            if (!payload.IsEmpty || (flags & TcpFlags.Fin) != 0) AcceptText(seg, seg.Sequence + 1, payload, now);
        }
        else
        {
            // Simultaneous open (RFC 9293 §3.5 figure 7): answer with SYN-ACK from the same ISS.
            State = TcpState.SynReceived;
            _sndNxt = _iss;
        }
    }

    private void ReceiveSynchronized(in TcpHeader seg, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        var flags = seg.Flags;
        bool rst = (flags & TcpFlags.Rst) != 0;

        // A retransmitted SYN for a half-open passive connection: our SYN-ACK was lost, resend it.
        if (State == TcpState.SynReceived && (flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst)) == TcpFlags.Syn
            && seg.Sequence == _irs)
        {
            _sndNxt = _iss;
            return;
        }

        // Simultaneous open (RFC 9293 §3.5 figure 7, line 7): the peer's SYN-ACK repeats the SYN we already
        // hold. Trim the SYN like any duplicate octet so the ACK it carries is processed.
        if (State == TcpState.SynReceived && (flags & (TcpFlags.Syn | TcpFlags.Ack | TcpFlags.Rst)) == (TcpFlags.Syn | TcpFlags.Ack)
            && seg.Sequence == _irs)
        {
            ReceiveSynchronized(seg with { Flags = flags & ~TcpFlags.Syn, Sequence = seg.Sequence + 1 }, payload, now);
            return;
        }

        // RFC 7323 §5.3 R1 (PAWS) and §3.2: once negotiated, segments without timestamps are dropped.
        if (_timestamps && !rst)
        {
            if (seg.Options.Timestamps is not TcpTimestamps ts)
            {
                _counters.PawsRejected++;
                return;
            }
            if (unchecked((int)(ts.Value - _tsRecent)) < 0)
            {
                _counters.PawsRejected++;
                _ackNow = true;
                return;
            }
        }

        int segLen = payload.Length + ((flags & TcpFlags.Syn) != 0 ? 1 : 0) + ((flags & TcpFlags.Fin) != 0 ? 1 : 0);
        if (!IsAcceptable(seg.Sequence, segLen))
        {
            // RFC 9293 §3.10.7.4 first check: ACK unacceptable segments unless they carry RST.
            if (rst) { _counters.OutOfWindowResets++; return; }
            _counters.OutOfWindowSegments++;
            // A retransmission of data we already hold (our ACK was lost): echo its timestamp in the
            // duplicate ACK, or the sender measures an RTT spanning the lost ACK and inflates its RTO.
            // Only within one window below RCV.NXT, so a blind attacker cannot move TS.Recent.
            if (_timestamps && seg.Options.Timestamps is TcpTimestamps old && seg.Sequence <= _lastAckSent
                && _rcvNxt - seg.Sequence <= Math.Max(ReceiveWindow, _sndMss) && unchecked((int)(old.Value - _tsRecent)) >= 0)
            {
                _tsRecent = old.Value;
            }
            // A retransmitted FIN in TIME-WAIT restarts the 2 MSL timer (RFC 9293 §3.10.7.4, eighth check).
            if (State == TcpState.TimeWait && (flags & TcpFlags.Fin) != 0) _closeDeadline = now + 2 * _settings.MaxSegmentLifetime;
            _ackNow = true;
            return;
        }
        _lastReceived = now;
        ArmKeepAlive(now);
        _keepAliveProbesSent = 0;
        _unansweredWindowProbes = 0; // any acceptable segment answers a zero-window probe

        if (rst)
        {
            _counters.ResetsReceived++;
            // RFC 5961 §3.2: reset only on an exact match; otherwise challenge with an ACK.
            if (seg.Sequence != _rcvNxt)
            {
                ChallengeAck(now);
                return;
            }
            OnReset();
            return;
        }

        if ((flags & TcpFlags.Syn) != 0)
        {
            // RFC 5961 §4.2: any SYN in a synchronized state gets a challenge ACK, never a reset.
            ChallengeAck(now);
            return;
        }

        if ((flags & TcpFlags.Ack) == 0) return;

        // RFC 7323 §4.3: update TS.Recent from a segment covering Last.ACK.sent.
        if (_timestamps && seg.Options.Timestamps is TcpTimestamps t && seg.Sequence <= _lastAckSent
            && unchecked((int)(t.Value - _tsRecent)) >= 0)
        {
            _tsRecent = t.Value;
        }

        if (State == TcpState.SynReceived)
        {
            if (seg.Acknowledgment <= _sndUna || seg.Acknowledgment > _sndMax)
            {
                QueueReset(seg.Acknowledgment, default, TcpFlags.Rst);
                _counters.InvalidAcks++;
                return;
            }
            State = _finQueued ? TcpState.FinWait1 : TcpState.Established;
            _closeDeadline = null; // the connect timeout of a simultaneous open
            _sndWnd = seg.Window << _sndScale;
            _maxSndWnd = Math.Max(_maxSndWnd, _sndWnd);
            _sndWl1 = seg.Sequence;
            _sndWl2 = seg.Acknowledgment;
            Raise(TcpEvents.Established);
        }

        if (!ProcessAck(seg, payload.Length, now)) return;

        bool finAcked = _finQueued && _sndUna == FinSequence + 1;
        switch (State)
        {
            case TcpState.FinWait1 when finAcked:
                State = TcpState.FinWait2;
                _closeDeadline = FinWait2Deadline(now); // TcpControlBlock.ReceiveShutdown.cs
                break;
            case TcpState.Closing when finAcked:
                EnterTimeWait(now);
                break;
            case TcpState.LastAck when finAcked:
                EnterClosed(TcpError.None);
                return;
        }

        AcceptText(seg, seg.Sequence, payload, now);
    }

    /// <summary>RFC 9293 §3.10.7.4 acceptability table, with the zero-window allowance for ACK/RST.</summary>
    private bool IsAcceptable(TcpSeqNumber seq, int segLen)
    {
        int wnd = ReceiveWindow;
        if (segLen == 0)
        {
            return wnd == 0 ? seq == _rcvNxt : _rcvNxt <= seq && seq < _rcvNxt + wnd;
        }
        if (wnd == 0) return seq == _rcvNxt; // processed for its ACK; the text is trimmed away
        return (_rcvNxt <= seq && seq < _rcvNxt + wnd)
            || (_rcvNxt <= seq + (segLen - 1) && seq + (segLen - 1) < _rcvNxt + wnd);
    }

    private int ReceiveWindow => Math.Max(_rcvAdvertisedEdge - _rcvNxt, 0);

    private void OnReset()
    {
        switch (State)
        {
            case TcpState.SynReceived when _passive:
                EnterClosed(TcpError.None); // back to LISTEN: the listener never saw this one
                break;
            case TcpState.SynReceived:
                EnterClosed(TcpError.ConnectionRefused);
                break;
            case TcpState.Established:
            case TcpState.FinWait1:
            case TcpState.FinWait2:
            case TcpState.CloseWait:
                EnterClosed(TcpError.ConnectionReset);
                break;
            default:
                EnterClosed(TcpError.None);
                break;
        }
    }

    /// <summary>RFC 5961 §7: challenge ACKs are rate limited per connection.</summary>
    private void ChallengeAck(TimeSpan now)
    {
        if (now - _challengeWindowStart >= TimeSpan.FromSeconds(1))
        {
            _challengeWindowStart = now;
            _challengeAcksInWindow = 0;
        }
        if (_challengeAcksInWindow >= _settings.ChallengeAckLimitPerSecond)
        {
            _counters.ChallengeAcksSuppressed++;
            return;
        }
        _challengeAcksInWindow++;
        _counters.ChallengeAcks++;
        _ackNow = true;
    }

    /// <summary>Segment text and FIN (RFC 9293 §3.10.7.4 seventh and eighth checks), with reassembly.</summary>
    private void AcceptText(in TcpHeader seg, TcpSeqNumber seq, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        bool fin = (seg.Flags & TcpFlags.Fin) != 0;
        bool textAllowed = State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2;
        if (textAllowed && !_peerFinReceived && (!payload.IsEmpty || fin))
        {
            var end = seq + payload.Length;
            if (seq < _rcvNxt)
            {
                int trim = Math.Min(_rcvNxt - seq, payload.Length);
                payload = payload[trim..];
                seq += trim;
            }
            int offset = seq - _rcvNxt;
            int room = ReceiveWindow - offset;
            bool truncated = false;
            if (payload.Length > room)
            {
                payload = room > 0 ? payload[..room] : default;
                truncated = true;
            }
            if (fin && !truncated) _peerFinSeq = end;
            if (!payload.IsEmpty)
            {
                if (!StorePayload(offset, payload, now)) return;
            }
            else if (truncated)
            {
                _ackNow = true;
            }
        }

        if (_peerFinSeq is TcpSeqNumber finSeq && finSeq == _rcvNxt && !_peerFinReceived)
        {
            _rcvNxt += 1;
            _peerFinReceived = true;
            _ackNow = true;
            Raise(TcpEvents.PeerClosed | TcpEvents.Readable);
            switch (State)
            {
                case TcpState.SynReceived:
                case TcpState.Established:
                    State = TcpState.CloseWait;
                    break;
                case TcpState.FinWait1:
                    if (_sndUna == FinSequence + 1) EnterTimeWait(now);
                    else State = TcpState.Closing;
                    break;
                case TcpState.FinWait2:
                    EnterTimeWait(now);
                    break;
            }
        }
    }

    /// <summary>Full-sized segments' worth of <paramref name="length"/> bytes, at least 1: ceil(length / receive MSS).</summary>
    private int SegmentsIn(int length)
    {
        int mss = Math.Max(_settings.MaxSegmentSize - (_timestamps ? 12 : 0), 1);
        return length <= mss ? 1 : (length + mss - 1) / mss;
    }

    /// <summary>Puts in-window bytes at their offset from RCV.NXT and advances over what became contiguous.</summary>
    private bool StorePayload(int offset, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        int ready;
        bool delivered = false;
        if (offset == 0 && _assembler.IsEmpty)
        {
            // Fast path: the next bytes in order, nothing queued behind them. With nothing unread ahead of
            // them either, they go straight to the application's buffer when the shell offers one.
            ready = payload.Length;
            delivered = _receiveBuffer.Count == 0 && ReceiveTarget is not null;
            if (delivered) Deliver(ReceiveTarget!, payload);
            else _receiveBuffer.WriteAt(0, payload);
        }
        else
        {
            _receiveBuffer.WriteAt(offset, payload);
            if (!_assembler.Add(offset, offset + payload.Length))
            {
                _counters.ReassemblyDrops++;
                _ackNow = true;
                return false;
            }
            ready = _assembler.TakeFront();
        }
        if (ready > 0)
        {
            if (!delivered) _receiveBuffer.Commit(ready);
            _rcvNxt += ready;
            Raise(TcpEvents.Readable);
        }
        // RFC 5681 §4.2: ACK out-of-order data and gap fills at once; otherwise every second full segment.
        // A segment of several MSS (a GRO/GSO super-frame from an offloading link) counts as that many.
        if (offset > 0 || !_assembler.IsEmpty || ready > payload.Length) _ackNow = true;
        else if ((_segmentsSinceAck += SegmentsIn(payload.Length)) >= 2) _ackNow = true;
        else _delayedAckDeadline ??= now + _settings.DelayedAckTimeout;
        return true;
    }

    private static void Deliver(IBufferWriter<byte> target, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var span = target.GetSpan();
            int n = Math.Min(span.Length, data.Length);
            data[..n].CopyTo(span);
            target.Advance(n);
            data = data[n..];
        }
    }
}
