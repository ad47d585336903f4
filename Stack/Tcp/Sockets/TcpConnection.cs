using System.Buffers;
using System.IO.Pipelines;
using System.Net;

namespace Apps.Stack.Tcp;

// Data paths. Receive: on the loop, in-order bytes go from the arriving segment straight into the
// Input pipe (the core's ReceiveTarget) while the pipe takes more; when the application falls behind,
// the pipe's flush stays pending, the core keeps what arrives in its receive buffer, its window closes
// and the peer slows down (flow control end to end); once the application catches up, the buffered
// bytes move into the pipe and the direct path opens again. Send: the loop reads the
// Output pipe itself and copies into the core's send buffer as space allows; when the buffer is full
// it keeps the rest and goes on at the core's next Writable event, and when the pipe is empty it arms
// one ReadAsync whose continuation (run inline by the application's flush) posts back to the loop.
// So a write costs one hop to the loop, and waiting for space none. Completing Output sends FIN.

/// <summary>
/// A TCP connection of a <see cref="NetworkStack"/> as an <see cref="IDuplexPipe"/> (and a
/// <see cref="Stream"/> through <see cref="AsStream"/>). Safe to use from any thread.
/// </summary>
public sealed class TcpConnection : IDuplexPipe, IAsyncDisposable
{
    private static readonly PipeOptions ReceiveOptions = new(
        pool: BlockMemoryPool.Shared, pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024,
        minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false);

    // The reader is the loop: its continuation only posts to the loop, so it may run inline on the writer's thread.
    private static readonly PipeOptions SendOptions = new(
        pool: BlockMemoryPool.Shared, readerScheduler: PipeScheduler.Inline, pauseWriterThreshold: 256 * 1024,
        resumeWriterThreshold: 128 * 1024, minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false);

    private const int SendLowWater = 64 * 1024;

    private readonly TcpTransport _transport;
    private readonly TcpControlBlock _tcb;            // loop thread only
    private readonly Pipe _received = new(ReceiveOptions); // written on the loop, read by the application
    private readonly Pipe _toSend = new(SendOptions);      // written by the application, read on the loop
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _flushPending, _receiveDone;              // loop thread only
    private ReadOnlySequence<byte> _unsent;                // loop thread only: what the last read gave and the core has not taken
    private bool _holdingRead, _unsentIsLast, _readArmed, _sendDone; // loop thread only
    private volatile Exception? _failure;

    internal TcpConnection(TcpTransport transport, TcpControlBlock tcb)
    {
        _transport = transport;
        _tcb = tcb;
        var t = tcb.Tuple;
        LocalEndPoint = new IPEndPoint(t.LocalAddress.ToIPAddress(), t.LocalPort);
        RemoteEndPoint = new IPEndPoint(t.RemoteAddress.ToIPAddress(), t.RemotePort);
    }

    /// <summary>
    /// Bytes from the peer. Completes at the peer's FIN, or with <see cref="TcpConnectionException"/>
    /// (or <see cref="ObjectDisposedException"/> when the stack is disposed).
    /// </summary>
    public PipeReader Input => _received.Reader;

    /// <summary>Bytes to the peer. Complete it to close our side gracefully (FIN after the data).</summary>
    public PipeWriter Output => _toSend.Writer;

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

    /// <summary>Loop thread: starts moving the Output pipe into the core, and arriving bytes into the Input pipe.</summary>
    internal void Start()
    {
        _tcb.ReceiveTarget = _received.Writer;
        PumpSend();
    }

    /// <summary>Loop thread: reacts to what the core reported.</summary>
    internal void OnEvents(TcpEvents events)
    {
        if ((events & TcpEvents.Established) != 0) _established.TrySetResult();
        if ((events & (TcpEvents.Readable | TcpEvents.PeerClosed | TcpEvents.Closed)) != 0) PumpReceived();
        if ((events & TcpEvents.Closed) != 0 && _tcb.Error != TcpError.None)
        {
            _failure = new TcpConnectionException(_tcb.Error, RemoteEndPoint, _tcb.LastUnreachableCode);
        }

        // Copy more only for a worthwhile amount of space (a low-water mark, like SO_SNDLOWAT): ACKs arrive
        // every two segments, and walking the pipe's buffer per ACK would cost more than the copy.
        bool worthPumping = (events & TcpEvents.Closed) != 0
            || ((events & TcpEvents.Writable) != 0
                && (_tcb.SendSpace >= Math.Min(SendLowWater, (_tcb.SendSpace + _tcb.Unacknowledged) / 2) || _tcb.Unacknowledged == 0 || !_tcb.CanSend));
        if (worthPumping && _holdingRead) PumpSend();
        if ((events & TcpEvents.Closed) != 0 && _readArmed) _toSend.Reader.CancelPendingRead(); // its post fails the Output pipe
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
        if (!_sendDone)
        {
            // Posts to the stopped loop are never run, so the Output pipe is failed here; a read still armed
            // is never resumed, and the application's next flush throws the failure.
            _sendDone = true;
            _toSend.Reader.Complete(failure);
        }
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

    // Loop thread: Output pipe -> core send buffer, until the pipe is empty or the core's buffer is full.
    private void PumpSend()
    {
        var reader = _toSend.Reader;
        while (!_sendDone)
        {
            if (!_holdingRead)
            {
                if (_readArmed) return; // its continuation comes back here
                ReadResult read;
                try
                {
                    if (!reader.TryRead(out read))
                    {
                        _readArmed = true;
                        _ = AwaitDataAsync(reader.ReadAsync());
                        return;
                    }
                }
                catch (Exception e)
                {
                    FailSend(e); // TryRead throws what the application completed Output with
                    return;
                }

                Hold(read);
            }

            if (_failure is not null || !_tcb.CanSend)
            {
                // The connection is gone (or closed): the application's next write or flush throws this.
                _sendDone = true;
                reader.Complete(_failure ?? new TcpConnectionException(TcpError.None, RemoteEndPoint));
                return;
            }

            _unsent = _unsent.Slice(TakeFrom(_unsent));
            if (!_unsent.IsEmpty) return; // the core's buffer is full: OnEvents goes on at Writable
            reader.AdvanceTo(_unsent.End);
            _holdingRead = false;
            if (_unsentIsLast)
            {
                _sendDone = true;
                _tcb.Close();
                reader.Complete();
            }
        }
    }

    private void Hold(ReadResult read)
    {
        _unsent = read.Buffer;
        _unsentIsLast = read.IsCompleted;
        _holdingRead = true;
    }

    // Whichever thread completed the read (the application's, inline in its flush): back to the loop.
    private async Task AwaitDataAsync(ValueTask<ReadResult> reading)
    {
        ReadResult read;
        try
        {
            read = await reading.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _transport.Post(_ => FailSend(e)); // the application completed Output with an error: reset
            return;
        }

        _transport.Post(_ =>
        {
            _readArmed = false;
            if (_sendDone) return;
            Hold(read);
            PumpSend();
        });
    }

    // Loop thread: the application failed its own Output pipe; RFC 9293 §3.10.7.1 ABORT.
    private void FailSend(Exception e)
    {
        _readArmed = false;
        if (_sendDone) return;
        _sendDone = true;
        _toSend.Reader.Complete(e);
        _tcb.Abort();
    }

    // Loop thread: copies what fits into the core's send buffer.
    private long TakeFrom(ReadOnlySequence<byte> data)
    {
        long taken = 0;
        foreach (var memory in data)
        {
            int n = _tcb.Send(memory.Span);
            taken += n;
            if (n < memory.Length) break;
        }
        return taken;
    }
}
