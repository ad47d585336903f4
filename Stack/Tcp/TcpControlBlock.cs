using System.Buffers;
using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

// Read this first: RFC 9293 §3.3 (variables), §3.10 (event processing). This partial class is
// split by concept: this file holds the state and the application calls; .Input.cs the
// segment-arrival rules (§3.10.7); .Acknowledgment.cs ACK processing, RTT and loss recovery;
// .Output.cs timers and what to transmit (§3.8).
// Invariants: SND.UNA <= SND.NXT <= SND.MAX; the send buffer's byte 0 has sequence _sndBufSeq;
// the receive buffer's readable bytes end at RCV.NXT; nothing here reads a clock: every entry
// point takes `now`, and PollAt says when to call Poll next.

/// <summary>
/// The sans-IO core of one TCP connection (the RFC's Transmission Control Block). Feed it parsed
/// segments with <see cref="Receive"/>, call <see cref="Poll"/> to get segments out, and schedule
/// the next call at <see cref="PollAt"/>.
/// </summary>
public sealed partial class TcpControlBlock
{
    private readonly TcpSettings _settings;
    private readonly TcpCounters _counters;
    private readonly TcpSendBuffer _sendBuffer;
    private readonly TcpReceiveBuffer _receiveBuffer;
    private readonly TcpAssembler _assembler;
    private readonly TcpSackScoreboard _scoreboard;
    private readonly RttEstimator _rtt;
    private CubicCongestionControl _congestion;
    private byte[] _scratch; // grows to one TSO burst the first time a burst wraps the send ring
    private readonly bool _passive;

    // Send sequence space (RFC 9293 §3.3.1).
    private readonly TcpSeqNumber _iss;
    private TcpSeqNumber _sndUna, _sndNxt, _sndMax, _sndWl1, _sndWl2, _sndBufSeq;
    private int _sndWnd, _maxSndWnd, _sndMss;
    private bool _finQueued;

    // Receive sequence space.
    private TcpSeqNumber _irs, _rcvNxt, _rcvAdvertisedEdge, _lastAckSent;
    private TcpSeqNumber? _peerFinSeq;
    private bool _peerFinReceived;

    // Negotiated options (RFC 7323, RFC 2018).
    private byte _sndScale, _rcvScale;
    private bool _windowScaleAgreed;
    private bool _timestamps, _sack;
    private uint _tsRecent;
    private readonly uint _tsOffset;

    private TcpEvents _events;
    private bool _needsPoll = true;

    private TcpControlBlock(TcpSettings settings, TcpCounters counters, TcpTuple tuple, TcpSeqNumber iss, bool passive)
    {
        _settings = settings;
        _counters = counters;
        Tuple = tuple;
        _iss = iss;
        _passive = passive;
        _sndUna = _sndNxt = _sndMax = iss;
        _sndBufSeq = iss + 1;
        _sendBuffer = new TcpSendBuffer(settings.SendBufferSize);
        _receiveBuffer = new TcpReceiveBuffer(settings.ReceiveBufferSize);
        _assembler = new TcpAssembler(settings.MaxOutOfOrderRanges);
        _scoreboard = new TcpSackScoreboard(settings.MaxSackScoreboardRanges);
        _rtt = new RttEstimator(settings.InitialRto, settings.MinRto, settings.MaxRto);
        _congestion = new CubicCongestionControl(settings.MaxSegmentSize, settings.SendBufferSize);
        _scratch = new byte[settings.MaxSegmentSize];
        _sndMss = Math.Min((int)settings.MaxSegmentSize, 536); // RFC 9293 §3.7.1 default until the peer says
        _tsOffset = iss.Value; // RFC 7323 §5.4: a per-connection random offset
        _rcvScale = ReceiveWindowScaleFor(settings);
        _recover = iss;
    }

    /// <summary>
    /// Starts an active open (RFC 9293 §3.10.1): the SYN goes out on the next <see cref="Poll"/>. With a
    /// connect timeout the attempt ends in <see cref="TcpError.TimedOut"/> if not established by then;
    /// without, only the SYN retries bound it.
    /// </summary>
    public static TcpControlBlock Connect(TcpSettings settings, TcpCounters counters, TcpTuple tuple, TcpSeqNumber iss, TimeSpan now, TimeSpan? connectTimeout = null)
    {
        settings.Validate();
        var tcb = new TcpControlBlock(settings, counters, tuple, iss, passive: false) { State = TcpState.SynSent };
        tcb._lastReceived = now;
        if (connectTimeout is TimeSpan limit) tcb._closeDeadline = now + limit;
        counters.ConnectionsOpened++;
        return tcb;
    }

    /// <summary>Creates the SYN-RECEIVED connection a listener spawns for <paramref name="syn"/> (RFC 9293 §3.10.7.2).</summary>
    public static TcpControlBlock Accept(TcpSettings settings, TcpCounters counters, TcpTuple tuple, TcpSeqNumber iss, in TcpHeader syn, TimeSpan now)
    {
        settings.Validate();
        var tcb = new TcpControlBlock(settings, counters, tuple, iss, passive: true) { State = TcpState.SynReceived };
        tcb._lastReceived = now;
        tcb.TakePeerSyn(syn);
        return tcb;
    }

    /// <summary>
    /// Creates the ESTABLISHED connection a valid SYN cookie stands for (RFC 4987 §3.6): our ISS was
    /// the cookie, the client's ISN is one below the ACK's sequence number, the MSS is the one the
    /// cookie encodes, and, when <paramref name="bits"/> came back in the ACK's TSecr (see
    /// <see cref="TcpSynCookies"/>), timestamps, window scaling and SACK are restored as the cookie
    /// SYN-ACK agreed them; otherwise none of the three. Feed the ACK with <see cref="Receive"/> next,
    /// for any data it carries.
    /// </summary>
    internal static TcpControlBlock AcceptCookie(TcpSettings settings, TcpCounters counters, TcpTuple tuple, TcpSeqNumber cookie, int mss, int bits, in TcpHeader ack, TimeSpan now)
    {
        settings.Validate();
        var tcb = new TcpControlBlock(settings, counters, tuple, cookie, passive: true) { State = TcpState.Established };
        tcb._irs = ack.Sequence - 1;
        tcb._rcvNxt = ack.Sequence;
        tcb._lastAckSent = tcb._rcvNxt;
        tcb._timestamps = bits != TcpSynCookies.NoTimestamps && ack.Options.Timestamps.HasValue;
        if (tcb._timestamps)
        {
            tcb._tsRecent = ack.Options.Timestamps!.Value.Value;
            var (windowScale, sackPermitted) = TcpSynCookies.Decode(bits);
            tcb._sack = settings.SelectiveAck && sackPermitted;
            tcb._windowScaleAgreed = settings.WindowScaling && windowScale.HasValue;
            tcb._sndScale = tcb._windowScaleAgreed ? windowScale!.Value : (byte)0;
        }
        if (!tcb._windowScaleAgreed) tcb._rcvScale = 0;
        tcb._rcvAdvertisedEdge = tcb._rcvNxt + Math.Min(tcb._receiveBuffer.Free, ushort.MaxValue); // what the cookie SYN-ACK offered
        tcb._sndUna = tcb._sndNxt = tcb._sndMax = cookie + 1;
        tcb._sndMss = Math.Max(Math.Min(mss, settings.MaxSegmentSize) - (tcb._timestamps ? 12 : 0), 64);
        tcb._congestion = new CubicCongestionControl(tcb._sndMss, settings.SendBufferSize, tcb.OffloadBurst);
        tcb._sndWnd = tcb._maxSndWnd = ack.Window << tcb._sndScale; // RFC 7323 §2.2: scaled from the first non-SYN segment
        tcb._sndWl1 = ack.Sequence;
        tcb._sndWl2 = ack.Acknowledgment;
        tcb._lastReceived = now;
        tcb.ArmKeepAlive(now);
        tcb.Raise(TcpEvents.Established);
        return tcb;
    }

    /// <summary>RFC 7323 §2.3: the smallest shift that lets a 16-bit window cover the receive buffer.</summary>
    internal static byte ReceiveWindowScaleFor(TcpSettings settings)
    {
        byte scale = 0;
        while (scale < TcpOptions.MaxWindowScale && settings.ReceiveBufferSize >> scale > ushort.MaxValue) scale++;
        return scale;
    }

    public TcpTuple Tuple { get; }
    public TcpState State { get; private set; }

    /// <summary>Why the connection ended, when it ended abnormally.</summary>
    public TcpError Error { get; private set; }

    /// <summary>True for a connection spawned by a listener.</summary>
    public bool IsPassive => _passive;

    /// <summary>Bytes the application can read now.</summary>
    public int Available => _receiveBuffer.Count;

    /// <summary>
    /// Where in-order bytes go when none are buffered ahead of them: the application's own buffer (the
    /// shell's pipe), one copy instead of two; <see cref="TcpEvents.Readable"/> is raised as for buffered
    /// bytes, and the window stays open since the receive buffer stays empty. Null (the default) keeps every
    /// byte in the receive buffer: the shell clears it while the application lags, so that the window closes
    /// as that buffer fills (flow control), and <see cref="ShutdownReceive"/> clears it for good.
    /// </summary>
    public IBufferWriter<byte>? ReceiveTarget { get; set; }

    /// <summary>Bytes <see cref="Send"/> would accept now.</summary>
    public int SendSpace => CanSend ? _sendBuffer.Free : 0;

    /// <summary>Bytes written but not yet acknowledged by the peer.</summary>
    public int Unacknowledged => _sendBuffer.Count;

    /// <summary>True once the peer's FIN was received: after the buffered bytes, the stream ends.</summary>
    public bool PeerClosed => _peerFinReceived;

    /// <summary>The effective send MSS (payload bytes per segment).</summary>
    public int SendMss => _sndMss;

    /// <summary>
    /// Most data bytes in one new-data segment: one MSS, or with segmentation offload the largest whole
    /// number of MSS within <see cref="TcpSettings.SegmentOffloadSize"/>.
    /// </summary>
    internal int MaxBurst => _settings.SegmentOffloadSize >= 2 * _sndMss ? _settings.SegmentOffloadSize / _sndMss * _sndMss : _sndMss;

    private int OffloadBurst => MaxBurst > _sndMss ? MaxBurst : 0;

    public int CongestionWindow => _congestion.Window;
    public TimeSpan RetransmissionTimeout => _rtt.Rto;
    public TimeSpan? SmoothedRtt => _rtt.SmoothedRtt;
    internal bool TimestampsEnabled => _timestamps;
    internal bool SackEnabled => _sack;
    internal byte SendWindowScale => _sndScale;
    internal byte ReceiveWindowScale => _rcvScale;
    internal int SendWindow => _sndWnd;
    internal TcpSeqNumber InitialSendSequence => _iss;
    internal TcpSeqNumber SndUna => _sndUna;
    internal TcpSeqNumber SndNxt => _sndNxt;
    internal TcpSeqNumber SndMax => _sndMax;
    internal TcpSeqNumber RcvNxt => _rcvNxt;
    internal bool InRecovery => _inRecovery;

    /// <summary>True while <see cref="Send"/> may be called (not closed for sending, not ended).</summary>
    public bool CanSend => !_finQueued && State is TcpState.SynSent or TcpState.SynReceived or TcpState.Established or TcpState.CloseWait;

    /// <summary>Queues bytes to send; returns how many fit in the send buffer (possibly 0).</summary>
    /// <exception cref="InvalidOperationException">The connection was closed for sending (API misuse).</exception>
    public int Send(ReadOnlySpan<byte> data)
    {
        if (!CanSend) throw new InvalidOperationException($"cannot send on a TCP connection in state {State}; the connection was closed or never opened");
        int n = _sendBuffer.Write(data);
        if (n > 0) RequestPoll();
        return n;
    }

    /// <summary>
    /// Counts <paramref name="count"/> more bytes as queued for sending that the application wrote in place, in
    /// the send buffer's free memory (<see cref="SendBufferMemory"/>), as <see cref="Send"/> would have copied them.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection was closed for sending, or more was committed than is free (API misuse).</exception>
    public void CommitSend(int count)
    {
        if (!CanSend) throw new InvalidOperationException($"cannot send on a TCP connection in state {State}; the connection was closed or never opened");
        if (count < 0 || count > _sendBuffer.Free) throw new InvalidOperationException($"cannot commit {count} bytes with {_sendBuffer.Free} free in the send buffer");
        _sendBuffer.Commit(count);
        if (count > 0) RequestPoll();
    }

    /// <summary>
    /// Any thread (one producer at a time, and then never <see cref="Send"/>): the send buffer's free memory after
    /// the <paramref name="written"/> bytes the producer has written in all, for it to write into before
    /// <see cref="CommitSend"/>. Contiguous up to the ring's end; empty when the buffer is full.
    /// </summary>
    internal Memory<byte> SendBufferMemory(long written) => _sendBuffer.FreeMemory(written);

    /// <summary>Any thread: the send buffer's free bytes after the <paramref name="written"/> bytes a producer has written.</summary>
    internal int SendBufferFree(long written) => _sendBuffer.FreeAfter(written);

    /// <summary>The send buffer's size.</summary>
    internal int SendBufferCapacity => _sendBuffer.Capacity;

    /// <summary>Moves received bytes into <paramref name="destination"/>; returns how many (0 when none are buffered).</summary>
    public int Read(Span<byte> destination)
    {
        int n = _receiveBuffer.Read(destination);
        // RFC 9293 §3.8.6.2.2: send a window update once the window can grow by two MSS or half the buffer.
        int growth = (_rcvNxt + _receiveBuffer.Free) - _rcvAdvertisedEdge;
        if (n > 0 && growth >= Math.Min(_receiveBuffer.Capacity / 2, 2 * _settings.MaxSegmentSize)
            && State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)
        {
            _ackNow = true;
            RequestPoll();
        }
        return n;
    }

    /// <summary>RFC 9293 §3.10.4 CLOSE: a FIN follows the queued data. Closing twice is harmless.</summary>
    public void Close()
    {
        switch (State)
        {
            case TcpState.SynSent:
                EnterClosed(TcpError.None);
                break;
            case TcpState.SynReceived:
                // RFC 9293 §3.10.4: queue the FIN until ESTABLISHED (the ACK of our SYN moves us to FIN-WAIT-1).
                _finQueued = true;
                break;
            case TcpState.Established:
                _finQueued = true;
                State = TcpState.FinWait1;
                break;
            case TcpState.CloseWait:
                _finQueued = true;
                State = TcpState.LastAck;
                break;
        }
        RequestPoll();
    }

    /// <summary>RFC 9293 §3.10.5 ABORT: drops all data and sends RST if the peer knows of us.</summary>
    public void Abort()
    {
        if (State is TcpState.SynReceived or TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 or TcpState.CloseWait)
        {
            QueueReset(_sndNxt, default, TcpFlags.Rst);
        }
        if (State != TcpState.Closed) EnterClosed(TcpError.Aborted);
        RequestPoll();
    }

    /// <summary>
    /// Called when an application call (send, read, close, abort) made the connection due for
    /// <see cref="Poll"/>, so the owner can schedule it without scanning every connection.
    /// </summary>
    internal Action<TcpControlBlock>? PollRequested { get; set; }

    /// <summary>The time of this connection's live entry in its owner's timer queue (owned by <see cref="TcpEndpointTable"/>).</summary>
    internal TimeSpan? ScheduledAt { get; set; }

    private void RequestPoll()
    {
        _needsPoll = true;
        PollRequested?.Invoke(this);
    }

    /// <summary>Drops the connection silently (an evicted half-open connection: no RST to a possibly spoofed address).</summary>
    internal void Discard() => EnterClosed(TcpError.None);

    /// <summary>The code of the last believed ICMP destination unreachable about this connection, if any.</summary>
    public byte? LastUnreachableCode { get; private set; }

    /// <summary>
    /// RFC 1122 §4.2.3.9: protocol (2) and port (3) unreachable are hard errors; RFC 5461 §4 acts on
    /// them only while connecting. Others are soft: remembered for the error report, nothing more.
    /// Returns true when the connection changed state.
    /// </summary>
    internal bool OnUnreachable(byte code, TcpSeqNumber quotedSequence)
    {
        if (quotedSequence < _sndUna || quotedSequence > _sndMax) return false; // RFC 5927 §4.1
        LastUnreachableCode = code;
        if (code is 2 or 3 && State is TcpState.SynSent or TcpState.SynReceived && !_passive)
        {
            EnterClosed(TcpError.ConnectionRefused);
            return true;
        }
        return false;
    }

    /// <summary>Returns and clears the events raised since the last call.</summary>
    public TcpEvents TakeEvents()
    {
        var e = _events;
        _events = TcpEvents.None;
        return e;
    }

    private void Raise(TcpEvents e) => _events |= e;

    private void EnterClosed(TcpError error)
    {
        if (State == TcpState.Closed) return;
        if (Error == TcpError.None) Error = error;
        State = TcpState.Closed;
        _rtoDeadline = _persistDeadline = _delayedAckDeadline = _keepAliveDeadline = _closeDeadline = _probeDeadline = null;
        if (error == TcpError.TimedOut) { Raise(TcpEvents.TimedOut); _counters.ConnectionsTimedOut++; }
        if (error is TcpError.ConnectionReset or TcpError.ConnectionRefused) Raise(TcpEvents.Reset);
        Raise(TcpEvents.Closed);
    }

    /// <summary>
    /// RFC 6191 §2: in TIME-WAIT, a SYN may open a new incarnation if it is newer than everything of
    /// this one: a larger timestamp when both use them, else a sequence number above RCV.NXT.
    /// </summary>
    internal bool AcceptsNewIncarnation(in TcpHeader syn)
    {
        if (State != TcpState.TimeWait) return false;
        if (_timestamps && syn.Options.Timestamps is TcpTimestamps ts) return unchecked((int)(ts.Value - _tsRecent)) > 0;
        return syn.Sequence > _rcvNxt;
    }

    /// <summary>Ends TIME-WAIT early because a new incarnation takes over the tuple.</summary>
    internal void EndTimeWait() => EnterClosed(TcpError.None);

    private void EnterTimeWait(TimeSpan now)
    {
        State = TcpState.TimeWait;
        _rtoDeadline = _persistDeadline = _keepAliveDeadline = _probeDeadline = null;
        _closeDeadline = now + 2 * _settings.MaxSegmentLifetime; // RFC 9293 §3.10.7.4: 2 MSL
    }

    /// <summary>Records the peer's SYN: its ISN and options (RFC 9293 §3.7.1, RFC 7323 §1.3/§2.2, RFC 2018 §2).</summary>
    private void TakePeerSyn(in TcpHeader syn)
    {
        _irs = syn.Sequence;
        _rcvNxt = syn.Sequence + 1;
        _lastAckSent = _rcvNxt;
        _rcvAdvertisedEdge = _rcvNxt + Math.Min(_receiveBuffer.Free, ushort.MaxValue); // what our SYN offered
        var o = syn.Options;
        _timestamps = _settings.Timestamps && o.Timestamps.HasValue;
        if (_timestamps) _tsRecent = o.Timestamps!.Value.Value;
        _sack = _settings.SelectiveAck && o.SackPermitted;
        _windowScaleAgreed = _settings.WindowScaling && o.WindowScale.HasValue;
        if (_windowScaleAgreed) _sndScale = o.WindowScale!.Value;
        else { _sndScale = 0; _rcvScale = 0; }
        int peerMss = o.MaxSegmentSize is ushort m && m > 0 ? m : 536;
        _sndMss = Math.Max(Math.Min(peerMss, _settings.MaxSegmentSize) - (_timestamps ? 12 : 0), 64);
        _congestion = new CubicCongestionControl(_sndMss, _settings.SendBufferSize, OffloadBurst);
        _sndWnd = syn.Window; // RFC 7323 §2.2: never scaled in a SYN
        _maxSndWnd = _sndWnd;
        _sndWl1 = syn.Sequence;
        _sndWl2 = syn.Acknowledgment;
    }
}
