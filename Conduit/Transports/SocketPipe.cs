// Read this first: the pumps between a connected host Socket and two pipes, with the semantics Kestrel relies on
// (../shared/notes/kestrel-transport.md): peer FIN completes Input; a reset completes it with
// ConnectionResetException and cancels Closed; the application completing Output drains what is left, sends
// it, then shuts down the send side (FIN); Abort resets at once; DisposeAsync waits for both pumps.
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace Apps.Conduit.Transports;

internal sealed class SocketPipe : IDuplexPipe
{
    private const int ReceiveSize = 16 * 1024;

    private readonly Socket _socket;
    private readonly Pipe _received = new(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false));
    private readonly Pipe _toSend = new(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false));
    private readonly CancellationTokenSource _closed = new();
    private readonly List<ArraySegment<byte>> _segments = [];
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private int _disposed;

    public SocketPipe(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
    }

    public PipeReader Input => _received.Reader;

    public PipeWriter Output => _toSend.Writer;

    /// <summary>Cancelled when the connection ends (reset, abort or dispose).</summary>
    public CancellationToken Closed => _closed.Token;

    public void Start()
    {
        _receiving = Task.Run(ReceiveAsync);
        _sending = Task.Run(SendAsync);
    }

    private async Task ReceiveAsync()
    {
        var writer = _received.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(ReceiveSize);
                var n = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    break; // FIN
                }

                writer.Advance(n);
                var flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted
                                            or SocketError.OperationAborted or SocketError.Shutdown)
        {
            error = new ConnectionResetException(e.Message, e);
            Cancel();
        }
        catch (ObjectDisposedException)
        {
            Cancel();
        }
        catch (SocketException e)
        {
            error = new ConnectionResetException(e.Message, e);
            Cancel();
        }

        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    private async Task SendAsync()
    {
        var reader = _toSend.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    break;
                }

                if (!buffer.IsEmpty)
                {
                    await SendBufferAsync(buffer).ConfigureAwait(false);
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

    /// <summary>All pending segments go to the socket in one call (one piece at a time costs most of the throughput).</summary>
    private async ValueTask SendBufferAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            await _socket.SendAsync(buffer.First, SocketFlags.None).ConfigureAwait(false);
            return;
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

        await _socket.SendAsync(_segments, SocketFlags.None).ConfigureAwait(false);
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
