using System.IO.Pipelines;
using System.Net;

namespace Apps.Stack.Tcp;

// Data paths. Receive: on the loop, in-order bytes go from the arriving segment straight into the
// Input pipe (the core's ReceiveTarget) while the pipe takes more; when the application falls behind,
// the pipe's flush stays pending, the core keeps what arrives in its receive buffer, its window closes
// and the peer slows down (flow control end to end); once the application catches up, the buffered
// bytes move into the pipe and the direct path opens again. Send: Output is a TcpOutputWriter whose memory
// is the core's send buffer: the application writes in place on its own thread and its flush posts one
// "count them in" to the loop; what does not fit, the loop moves in as ACKs free room (from the caller's
// memory for a WriteAsync), and the write completes when all of it is in. Completing Output sends FIN after
// the data (or resets, when completed with an error).

/// <summary>
/// A TCP connection of a <see cref="NetworkStack"/> as an <see cref="IDuplexPipe"/> (and a
/// <see cref="Stream"/> through <see cref="AsStream"/>). Safe to use from any thread.
/// </summary>
public sealed class TcpConnection : IDuplexPipe, IAsyncDisposable
{
    private static readonly PipeOptions ReceiveOptions = new(
        pool: BlockMemoryPool.Shared, pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024,
        minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false);

    private const int SendLowWater = 64 * 1024;

    private readonly TcpTransport _transport;
    private readonly TcpControlBlock _tcb;            // loop thread only (but for the writer's send-buffer memory)
    private readonly Pipe _received = new(ReceiveOptions); // written on the loop, read by the application
    private readonly TcpOutputWriter _output;              // written by the application, counted in on the loop
    private readonly Action<TimeSpan> _commit, _movePending;
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _flushPending, _receiveDone;              // loop thread only
    private long _committed;                               // loop thread only: bytes of Output counted into the core
    private bool _finishing, _sendDone;                    // loop thread only
    private volatile Exception? _failure;

    internal TcpConnection(TcpTransport transport, TcpControlBlock tcb)
    {
        _transport = transport;
        _tcb = tcb;
        _output = new TcpOutputWriter(this, tcb);
        _commit = _ => CommitWritten();
        _movePending = _ => MovePending();
        var t = tcb.Tuple;
        LocalEndPoint = new IPEndPoint(t.LocalAddress.ToIPAddress(), t.LocalPort);
        RemoteEndPoint = new IPEndPoint(t.RemoteAddress.ToIPAddress(), t.RemotePort);
    }

    /// <summary>
    /// Bytes from the peer. Completes at the peer's FIN, or with <see cref="TcpConnectionException"/>
    /// (or <see cref="ObjectDisposedException"/> when the stack is disposed).
    /// </summary>
    public PipeReader Input => _received.Reader;

    /// <summary>
    /// Bytes to the peer, written straight into the connection's send buffer. Complete it to close our side
    /// gracefully (FIN after the data), or with an exception to reset the connection.
    /// </summary>
    public PipeWriter Output => _output;

    public IPEndPoint LocalEndPoint { get; }
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The core (loop thread only; tests read its negotiated options once the loop is idle).</summary>
    internal TcpControlBlock Core => _tcb;

    /// <summary>Completes when the handshake finished; faults if the connect failed.</summary>
    internal Task Established => _established.Task;

    /// <summary>A <see cref="Stream"/> over the two pipes; disposing it closes the connection.</summary>
    public Stream AsStream() => new TcpStream(this);

    /// <summary>Resets the connection at once (RST); pending data in both directions is discarded.</summary>
    public void Abort() => _transport.Post(_ => _tcb.Abort());

    /// <summary>
    /// Closes gracefully: what was written is still delivered, then FIN. Data the peer still sends is
    /// acknowledged and discarded, and the connection lasts at most <see cref="TcpSettings.FinWait2Timeout"/>
    /// waiting for the peer's FIN.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await Output.CompleteAsync().ConfigureAwait(false);
        await Input.CompleteAsync().ConfigureAwait(false);
        _transport.Post(now => _tcb.ShutdownReceive(now));
    }

    /// <summary>Loop thread: starts moving arriving bytes into the Input pipe.</summary>
    internal void Start() => _tcb.ReceiveTarget = _received.Writer;

    /// <summary>Any thread (the writer's flush): count in what the application wrote.</summary>
    internal void PostCommit() => _transport.Post(_commit);

    /// <summary>Any thread (the writer, about to wait): move what did not fit into the buffer as room frees.</summary>
    internal void PostMovePending() => _transport.Post(_movePending);

    /// <summary>Runs <paramref name="work"/> on the loop (any thread).</summary>
    internal void Post(Action<TimeSpan> work) => _transport.Post(work);

    /// <summary>Any thread (the writer's completion): send what is left, then FIN; or reset for an error.</summary>
    internal void PostFinishSend(Exception? error) => _transport.Post(_ => FinishSend(error));

    /// <summary>Loop thread: reacts to what the core reported.</summary>
    internal void OnEvents(TcpEvents events)
    {
        if ((events & TcpEvents.Established) != 0) _established.TrySetResult();
        if ((events & (TcpEvents.Readable | TcpEvents.PeerClosed | TcpEvents.Closed)) != 0) PumpReceived();
        if ((events & TcpEvents.Closed) != 0 && _tcb.Error != TcpError.None)
        {
            _failure = new TcpConnectionException(_tcb.Error, RemoteEndPoint, _tcb.LastUnreachableCode);
        }

        // Move more in only for a worthwhile amount of room (a low-water mark, like SO_SNDLOWAT): ACKs arrive
        // every two segments, and a copy and a commit per ACK would cost more than the bytes they move.
        if ((events & TcpEvents.Writable) != 0
            && (_tcb.SendSpace >= Math.Min(SendLowWater, _tcb.SendBufferCapacity / 2) || _tcb.Unacknowledged == 0))
        {
            if (_output.IsPending) MovePending();
            if (_finishing) FinishSend(null);
        }
        if ((events & TcpEvents.Closed) != 0)
        {
            // The application's next write or flush (or the one waiting for room) throws this.
            _output.Fail(_failure ?? new TcpConnectionException(TcpError.None, RemoteEndPoint));
        }
        if (_failure is { } failure && (events & TcpEvents.Closed) != 0)
        {
            _established.TrySetException(failure);
            if (!_receiveDone)
            {
                StopReceiving();
                _received.Writer.Complete(failure);
            }
        }
        else if ((events & TcpEvents.Closed) != 0)
        {
            _established.TrySetException(new TcpConnectionException(TcpError.None, RemoteEndPoint));
        }
    }

    /// <summary>
    /// The stack was disposed: called on the disposing thread once the loop has stopped (so the loop's
    /// side of the pipes is ours). A pending connect, read or write fails with ObjectDisposedException.
    /// </summary>
    internal void OnStackStopped()
    {
        var failure = TcpTransport.StackDisposed($"the connection to {RemoteEndPoint}");
        _failure = failure;
        _established.TrySetException(failure);
        if (!_receiveDone)
        {
            StopReceiving();
            _received.Writer.Complete(failure);
        }
        // Posts to the stopped loop are never run: a writer waiting for room, and the next flush, get the failure.
        _sendDone = true;
        _output.Fail(failure);
    }

    // Loop thread: what the core buffered -> Input pipe, then a flush of all the pipe holds (bytes the
    // core delivered straight into it included); paused while the application lags behind.
    private void PumpReceived()
    {
        if (_flushPending || _receiveDone) return;
        var writer = _received.Writer;
        int available;
        while ((available = _tcb.Available) > 0)
        {
            var span = writer.GetSpan(Math.Min(available, BlockMemoryPool.BlockSize));
            writer.Advance(_tcb.Read(span));
        }
        if (_tcb.PeerClosed || _tcb.State == TcpState.Closed)
        {
            StopReceiving();
            if (_tcb.Error == TcpError.None) writer.Complete();
            else writer.Complete(new TcpConnectionException(_tcb.Error, RemoteEndPoint, _tcb.LastUnreachableCode));
            return;
        }
        var flush = writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            // Until the application catches up, arriving bytes wait in the core, whose window closes.
            _flushPending = true;
            _tcb.ReceiveTarget = null;
            _ = ResumeAfterFlushAsync(flush);
        }
        else if (flush.Result.IsCompleted)
        {
            StopReceiving(); // the application stopped reading: discard further data
            writer.Complete();
            _tcb.ShutdownReceive(_transport.Now);
        }
    }

    private async Task ResumeAfterFlushAsync(ValueTask<FlushResult> flush)
    {
        var result = await flush.ConfigureAwait(false);
        _transport.Post(now =>
        {
            _flushPending = false;
            if (result.IsCompleted && !_receiveDone)
            {
                StopReceiving();
                _received.Writer.Complete();
                _tcb.ShutdownReceive(now);
            }
            PumpReceived(); // moves what the core buffered meanwhile, ahead of anything that arrives next
            if (!_receiveDone && !_flushPending) _tcb.ReceiveTarget = _received.Writer;
        });
    }

    // Loop thread (or the disposing thread once the loop stopped): the Input pipe takes nothing more.
    private void StopReceiving()
    {
        _receiveDone = true;
        _tcb.ReceiveTarget = null;
    }

    // Loop thread: counts in what the application has written and flushed.
    private void CommitWritten()
    {
        long published = _output.TakePublished();
        int count = (int)(published - _committed);
        if (count <= 0 || _sendDone) return;
        if (!_tcb.CanSend)
        {
            // The connection is gone (or closed): the application's next write or flush throws this.
            _output.Fail(_failure ?? new TcpConnectionException(TcpError.None, RemoteEndPoint));
            return;
        }
        _tcb.CommitSend(count);
        _committed = published;
    }

    // Loop thread, while the application waits for bytes that did not fit: move them in as room frees (OnEvents
    // calls again at Writable), and count them in.
    private void MovePending()
    {
        if (!_output.IsPending || _sendDone) return;
        if (!_tcb.CanSend)
        {
            _output.Fail(_failure ?? new TcpConnectionException(TcpError.None, RemoteEndPoint));
            return;
        }
        _output.MovePending();
        CommitWritten();
    }

    // Loop thread, once the application completed Output: what is left in its overflow goes in as room frees
    // (OnEvents calls again at Writable), then FIN. Completed with an error: RFC 9293 §3.10.7.1 ABORT.
    private void FinishSend(Exception? error)
    {
        if (_sendDone) return;
        if (error is not null)
        {
            _sendDone = true;
            _tcb.Abort();
            return;
        }
        bool allIn = !_output.HasOverflow || (_tcb.CanSend && _output.MovePending());
        CommitWritten();
        _finishing = !allIn && _tcb.CanSend;
        if (_finishing) return;
        _sendDone = true;
        if (_tcb.CanSend) _tcb.Close();
    }
}
