// Read this first: the pumps between a connected host Socket and two pipes, with the semantics Kestrel relies on
// (../shared/notes/kestrel-transport.md): peer FIN completes Input; a reset completes it with
// ConnectionResetException and cancels Closed; the application completing Output drains what is left, sends
// it, then shuts down the send side (FIN); Abort resets at once; DisposeAsync waits for both pumps.
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Apps.Stack;
using Apps.Tls.Adapters;
using Microsoft.AspNetCore.Connections;

namespace Apps.Conduit.Transports;

internal sealed class SocketPipe : IDuplexPipe
{
    private const int ReceiveSize = 16 * 1024;

    /// <summary>The most the send loop holds back during a hand-over; more is sent at once.</summary>
    internal const int DeferLimit = 64 * 1024;

    /// <summary>
    /// Hand-overs whose writes are merged: a connection's opening, where TLS and HTTP/2 answer one packet with several
    /// small messages. Later a request mostly gets its response in one flush, and holding that back would only add a
    /// pass through the send pipe to every response.
    /// </summary>
    internal const int OpeningHandOvers = 4;

    /// <summary>Sends made at once, without gathering, after a gathering pass found nothing more to add.</summary>
    internal const int GatherBackOff = 16;

    /// <summary>The pipe whose receive loop is handing data to its application on this thread, if any.</summary>
    [ThreadStatic]
    private static SocketPipe? t_handingOver;

    private readonly Socket _socket;
    private readonly bool _inlineReads;
    // Thread hops cost more than anything else per request on a busy machine. The application's flush runs the send
    // loop inline (its send usually completes at once, on the same thread); with inlineReads the receive loop also runs
    // the application's read (TLS, then Kestrel) on the thread the socket completed on, as Kestrel's own
    // UnsafePreferInlineScheduling does. Writers that waited on back-pressure resume on the thread pool.
    // In a connection's first hand-overs of received data, what the application writes on that same thread is sent
    // once the hand-over returns (DeferLimit bounds it): an HTTP/2 connection's SETTINGS, WINDOW_UPDATE and SETTINGS ACK
    // then leave in one send instead of three. The deferral covers this connection's hand-over only, never the socket
    // engine's whole batch of completions (up to 15 ms for many connections), so no other connection waits on it.
    // A server's writes from a pool thread outside any hand-over (an HTTP/2 connection's frame writer, answering its
    // streams one flush each) are gathered: the send loop moves to the back of that thread's own queue first, and the
    // flushes made meanwhile leave with it in one send. With 100 streams per connection that was 0.5 sends per request
    // and 29% of the service's time in sendto. A pass that finds nothing more to add (one request at a time) makes the
    // next GatherBackOff sends go at once, so a lone request does not wait for the queue. A connection's first send (a TLS
    // server's flight, which then waits for the client) goes at once too: gathering it found nothing and, through the
    // back-off, kept the HTTP/2 opening that follows from being gathered (7 sends a connection instead of 5).
    private readonly Pipe _received;
    private readonly Pipe _toSend = new(new PipeOptions(BlockMemoryPool.Shared, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.ThreadPool,
        pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false));
    private readonly CancellationTokenSource _closed = new();
    private readonly List<ArraySegment<byte>> _segments = [];
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private int _disposed;
    // Set by the send loop on the handing-over thread when it held data back; read there after the hand-over.
    private bool _sendHeldBack;
    private int _handOvers;
    private int _sendCalls;
    private int _gatherPasses;
    // Tells the send loop that its cancelled read is the receive loop's "send now", not Abort.
    private volatile bool _sendNow;
    private volatile bool _aborted;

    /// <param name="socket">A connected socket; the pipe owns it.</param>
    /// <param name="inlineReads">Run the application's read continuations on the receive loop's thread (server
    /// connections whose application never blocks waiting for its own connection, such as Kestrel).</param>
    public SocketPipe(Socket socket, bool inlineReads)
    {
        _socket = socket;
        _inlineReads = inlineReads;
        _received = new Pipe(new PipeOptions(BlockMemoryPool.Shared, readerScheduler: inlineReads ? PipeScheduler.Inline : PipeScheduler.ThreadPool,
            writerScheduler: PipeScheduler.ThreadPool, pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19,
            minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false));
        _socket.NoDelay = true;
    }

    public PipeReader Input => _received.Reader;

    public PipeWriter Output => _toSend.Writer;

    /// <summary>Cancelled when the connection ends (reset, abort or dispose).</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Starts both loops on the caller's thread; each returns at its first wait (nothing to read or send yet).</summary>
    public void Start()
    {
        _receiving = ReceiveAsync();
        _sending = SendAsync();
    }

    private async Task ReceiveAsync()
    {
        var writer = _received.Writer;
        Exception? error = null;
        using var receive = new SocketOperation();
        var filled = false;
        try
        {
            while (true)
            {
                // Wait for data before taking a buffer, as Kestrel's socket transport does (WaitForDataBeforeAllocatingBuffer):
                // a zero-byte receive completes when the socket is readable. Hundreds of connections waiting through their
                // handshakes then hold no 16 KiB buffer each, which the shared pool cannot supply and the GC would have to
                // collect. Skipped after a receive that filled the buffer: more data is then almost surely waiting.
                if (!filled)
                {
                    var ready = await receive.ReceiveAsync(_socket, Memory<byte>.Empty).ConfigureAwait(false);
                    if (ready.Failed)
                    {
                        error = new ConnectionResetException(new SocketException((int)ready.Error).Message);
                        Cancel();
                        break;
                    }
                }

                var memory = writer.GetMemory(ReceiveSize);
                var result = await receive.ReceiveAsync(_socket, memory).ConfigureAwait(false);
                if (result.Failed)
                {
                    // Reset, aborted or shut down: Kestrel expects a ConnectionResetException on Input.
                    error = new ConnectionResetException(new SocketException((int)result.Error).Message);
                    Cancel();
                    break;
                }

                filled = result.Bytes == memory.Length;

                if (result.Bytes == 0)
                {
                    break; // FIN
                }

                writer.Advance(result.Bytes);
                var flushed = await HandOverAsync(writer).ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            Cancel();
        }

        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    /// <summary>
    /// Flushes received data to the application, which (with inline reads) runs on this thread until it waits; what it
    /// wrote meanwhile goes out in one send when the flush returns.
    /// </summary>
    private ValueTask<FlushResult> HandOverAsync(PipeWriter writer)
    {
        if (_handOvers >= OpeningHandOvers)
        {
            return writer.FlushAsync();
        }

        _handOvers++;
        var previous = t_handingOver;
        t_handingOver = this;
        ValueTask<FlushResult> flushing;
        try
        {
            flushing = writer.FlushAsync();
        }
        finally
        {
            t_handingOver = previous;
            if (_sendHeldBack)
            {
                _sendHeldBack = false;
                _sendNow = true;
                _toSend.Reader.CancelPendingRead();
            }
        }

        return flushing;
    }

    private async Task SendAsync()
    {
        var reader = _toSend.Reader;
        using var send = new SocketOperation();
        var gathered = false;
        long lengthBeforeHop = 0;
        // A connection's first send answers the peer's first message (a TLS server's flight) and then waits for the
        // peer, so nothing would join it: it goes at once.
        var skipGathers = 1;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    if (_aborted || !_sendNow)
                    {
                        break;
                    }

                    _sendNow = false;
                }

                if (!result.IsCompleted && t_handingOver == this && buffer.Length < DeferLimit)
                {
                    // Written during this connection's hand-over: HandOverAsync sends it when the application waits.
                    _sendHeldBack = true;
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    continue;
                }

                // Gathering, with its back-off (see the fields' comment).
                if (gathered)
                {
                    gathered = false;
                    if (buffer.Length == lengthBeforeHop)
                    {
                        skipGathers = GatherBackOff;
                    }
                }
                else if (_inlineReads && !result.IsCompleted && !buffer.IsEmpty && buffer.Length < DeferLimit && t_handingOver != this
                    && Thread.CurrentThread.IsThreadPoolThread)
                {
                    if (skipGathers > 0)
                    {
                        skipGathers--;
                    }
                    else
                    {
                        lengthBeforeHop = buffer.Length;
                        reader.AdvanceTo(buffer.Start, buffer.End);
                        gathered = true;
                        Interlocked.Increment(ref _gatherPasses);
                        await new ThreadPoolHop(preferLocal: true);
                        // All of it was examined, so a plain read would wait for more: ask for what is there now.
                        _sendNow = true;
                        reader.CancelPendingRead();
                        continue;
                    }
                }

                if (!buffer.IsEmpty && (await SendBufferAsync(send, buffer).ConfigureAwait(false)).Failed)
                {
                    Cancel(); // the peer is gone; what is left cannot be delivered
                    break;
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    _socket.Shutdown(SocketShutdown.Send);
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Cancel();
        }

        await reader.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Send calls made so far (for tests of what is gathered and merged).</summary>
    internal int SendCalls => Volatile.Read(ref _sendCalls);

    /// <summary>Gathering passes made so far, each a hop to the back of the thread's queue (for tests).</summary>
    internal int GatherPasses => Volatile.Read(ref _gatherPasses);

    /// <summary>All pending segments go to the socket in one call (one piece at a time costs most of the throughput).</summary>
    private ValueTask<SocketResult> SendBufferAsync(SocketOperation send, ReadOnlySequence<byte> buffer)
    {
        Interlocked.Increment(ref _sendCalls);
        if (buffer.IsSingleSegment)
        {
            return send.SendAsync(_socket, buffer.First);
        }

        _segments.Clear();
        foreach (var memory in buffer)
        {
            if (!MemoryMarshal.TryGetArray(memory, out var segment))
            {
                segment = new ArraySegment<byte>(memory.ToArray());
            }

            _segments.Add(segment);
        }

        return send.SendAsync(_socket, _segments);
    }

    private void Cancel()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Resets the connection (RST) without sending what is queued.</summary>
    public void Abort()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        _aborted = true;
        _toSend.Reader.CancelPendingRead();
        _socket.Dispose();
        Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _toSend.Writer.CompleteAsync().ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        _socket.Dispose();
        await _receiving.ConfigureAwait(false);
        await _received.Reader.CompleteAsync().ConfigureAwait(false);
        Cancel();
        _closed.Dispose();
    }
}
