using System.Buffers;
using System.IO.Pipelines;
using System.Net;

namespace Apps.Stack.Tcp;

// Data paths. Receive: on the loop, bytes move from the core's receive buffer into the Input pipe;
// when the application falls behind, the pipe's flush stays pending, we stop draining the core,
// its window closes and the peer slows down (flow control end to end). Send: a task reads the
// Output pipe and, on the loop, copies into the core's send buffer as space allows; when it is
// full it waits for the core's Writable event. Completing Output sends FIN (graceful close).

/// <summary>
/// A TCP connection of a <see cref="NetworkStack"/> as an <see cref="IDuplexPipe"/> (and a
/// <see cref="Stream"/> through <see cref="AsStream"/>). Safe to use from any thread.
/// </summary>
public sealed class TcpConnection : IDuplexPipe, IAsyncDisposable
{
    private static readonly PipeOptions Options = new(
        pool: BlockMemoryPool.Shared, pauseWriterThreshold: 256 * 1024, resumeWriterThreshold: 128 * 1024,
        minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false);

    private const int SendLowWater = 64 * 1024;

    private readonly TcpTransport _transport;
    private readonly TcpControlBlock _tcb;            // loop thread only
    private readonly Pipe _received = new(Options);   // written on the loop, read by the application
    private readonly Pipe _toSend = new(Options);     // written by the application, read by SendAsync
    private readonly SemaphoreSlim _writable = new(0, 1);
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _flushPending, _receiveDone;         // loop thread only
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

    internal void Start() => _ = SendAsync();

    /// <summary>Loop thread: reacts to what the core reported.</summary>
    internal void OnEvents(TcpEvents events)
    {
        if ((events & TcpEvents.Established) != 0) _established.TrySetResult();
        if ((events & (TcpEvents.Readable | TcpEvents.PeerClosed | TcpEvents.Closed)) != 0) PumpReceived();
        // Wake the sending task only for a worthwhile amount of space (a low-water mark, like SO_SNDLOWAT):
        // ACKs arrive every two segments, and a thread hop per ACK would cost more than the copy.
        bool worthWaking = (events & TcpEvents.Closed) != 0
            || ((events & TcpEvents.Writable) != 0
                && (_tcb.SendSpace >= Math.Min(SendLowWater, (_tcb.SendSpace + _tcb.Unacknowledged) / 2) || _tcb.Unacknowledged == 0 || !_tcb.CanSend));
        if (worthWaking && _writable.CurrentCount == 0) _writable.Release();
        if ((events & TcpEvents.Closed) != 0 && _tcb.Error != TcpError.None)
        {
            var failure = new TcpConnectionException(_tcb.Error, RemoteEndPoint, _tcb.LastUnreachableCode);
            _failure = failure;
            _toSend.Reader.CancelPendingRead(); // a sender waiting for data wakes and fails the Output pipe
            _established.TrySetException(failure);
            if (!_receiveDone)
            {
                _receiveDone = true;
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
            _receiveDone = true;
            _received.Writer.Complete(failure);
        }
        _toSend.Reader.CancelPendingRead();
        if (_writable.CurrentCount == 0) _writable.Release(); // SendAsync finds the failure and fails the Output pipe
    }

    // Loop thread: core receive buffer -> Input pipe, paused while the application lags behind.
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
            _receiveDone = true;
            if (_tcb.Error == TcpError.None) writer.Complete();
            else writer.Complete(new TcpConnectionException(_tcb.Error, RemoteEndPoint, _tcb.LastUnreachableCode));
            return;
        }
        var flush = writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            _flushPending = true;
            _ = ResumeAfterFlushAsync(flush);
        }
        else if (flush.Result.IsCompleted)
        {
            _receiveDone = true; // the application stopped reading: discard further data
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
                _receiveDone = true;
                _received.Writer.Complete();
                _tcb.ShutdownReceive(now);
            }
            PumpReceived();
        });
    }

    // Any thread: Output pipe -> core send buffer.
    private async Task SendAsync()
    {
        var reader = _toSend.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (_failure is { } failure) throw failure; // woken by CancelPendingRead: the connection is gone
                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    var pending = buffer;
                    long taken = await _transport.InvokeAsync(_ => TakeFrom(pending)).ConfigureAwait(false);
                    if (taken < 0) throw _failure ?? new TcpConnectionException(TcpError.None, RemoteEndPoint);
                    buffer = buffer.Slice(taken);
                    if (!buffer.IsEmpty) await _writable.WaitAsync().ConfigureAwait(false);
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted) break;
            }
            await _transport.InvokeAsync(_ =>
            {
                _tcb.Close();
                return true;
            }).ConfigureAwait(false);
            await reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The application's next write or flush throws this: the connection's own failure if it has one.
            await reader.CompleteAsync(_failure ?? e).ConfigureAwait(false);
        }
    }

    // Loop thread: copies what fits; -1 when the connection can no longer send.
    private long TakeFrom(ReadOnlySequence<byte> data)
    {
        if (!_tcb.CanSend) return -1;
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
