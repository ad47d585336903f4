using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Apps.Conduit.Transports;

/// <summary>What one socket send or receive did: bytes moved, or the error.</summary>
internal readonly record struct SocketResult(int Bytes, SocketError Error)
{
    public bool Failed => Error != SocketError.Success;
}

/// <summary>
/// One reusable send or receive on a socket, awaited without allocating and without throwing: a reset peer, a
/// closed pipe or an aborted socket come back as a <see cref="SocketError"/>. The Task-based socket methods throw a
/// <see cref="SocketException"/> for those, and every connection a client drops ends with one or two of them, whose
/// stack traces cost more than the rest of closing the connection. One operation at a time per instance.
/// </summary>
internal sealed class SocketOperation : SocketAsyncEventArgs, IValueTaskSource<SocketResult>
{
    private ManualResetValueTaskSourceCore<SocketResult> _source;

    public SocketOperation() : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>Receives into <paramref name="buffer"/>; zero bytes without an error means the peer sent FIN.</summary>
    /// <exception cref="ObjectDisposedException">The socket was already disposed.</exception>
    public ValueTask<SocketResult> ReceiveAsync(Socket socket, Memory<byte> buffer)
    {
        _source.Reset();
        SetBuffer(buffer);
        return socket.ReceiveAsync(this) ? new ValueTask<SocketResult>(this, _source.Version) : new ValueTask<SocketResult>(Result());
    }

    /// <summary>Sends all of <paramref name="buffer"/>.</summary>
    /// <exception cref="ObjectDisposedException">The socket was already disposed.</exception>
    public ValueTask<SocketResult> SendAsync(Socket socket, ReadOnlyMemory<byte> buffer)
    {
        _source.Reset();
        if (BufferList is not null)
        {
            BufferList = null;
        }

        // SocketAsyncEventArgs takes writable memory, but only reads it for a send.
        SetBuffer(System.Runtime.InteropServices.MemoryMarshal.AsMemory(buffer));
        return socket.SendAsync(this) ? new ValueTask<SocketResult>(this, _source.Version) : new ValueTask<SocketResult>(Result());
    }

    /// <summary>Sends all of <paramref name="buffers"/> in one call (gathered write).</summary>
    /// <exception cref="ObjectDisposedException">The socket was already disposed.</exception>
    public ValueTask<SocketResult> SendAsync(Socket socket, IList<ArraySegment<byte>> buffers)
    {
        _source.Reset();
        SetBuffer(null, 0, 0);
        BufferList = buffers;
        return socket.SendAsync(this) ? new ValueTask<SocketResult>(this, _source.Version) : new ValueTask<SocketResult>(Result());
    }

    protected override void OnCompleted(SocketAsyncEventArgs e) => _source.SetResult(Result());

    private SocketResult Result() => new(BytesTransferred, SocketError);

    SocketResult IValueTaskSource<SocketResult>.GetResult(short token) => _source.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<SocketResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<SocketResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}
