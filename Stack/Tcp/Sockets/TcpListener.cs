using System.Net;
using System.Threading.Channels;
using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

/// <summary>
/// A listening TCP port of a <see cref="NetworkStack"/>. Handshakes complete in the stack; at most
/// the backlog of established connections wait for <see cref="AcceptAsync"/>, beyond which new SYNs
/// are dropped. Safe to use from any thread.
/// </summary>
public sealed class TcpListener : IAsyncDisposable, IDisposable
{
    private readonly TcpTransport _transport;
    private readonly TcpListenQueue _queue;                 // loop thread only
    private readonly Channel<TcpConnection> _ready = Channel.CreateUnbounded<TcpConnection>(new UnboundedChannelOptions { SingleWriter = true });
    private int _disposed;

    internal TcpListener(TcpTransport transport, TcpListenQueue queue, Ipv4Address address)
    {
        _transport = transport;
        _queue = queue;
        LocalEndPoint = new IPEndPoint(address.ToIPAddress(), queue.Port);
    }

    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Waits for the next established connection.</summary>
    /// <exception cref="ObjectDisposedException">The listener was disposed.</exception>
    public async ValueTask<TcpConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            _transport.Post(_ => Fill()); // room for one more
            return connection;
        }
        catch (ChannelClosedException e)
        {
            throw e.InnerException as ObjectDisposedException
                ?? new ObjectDisposedException(nameof(TcpListener), $"the listener on port {LocalEndPoint.Port} was closed");
        }
    }

    /// <summary>The stack was disposed (its loop has stopped): pending and later accepts fail.</summary>
    internal void OnStackStopped()
    {
        Interlocked.Exchange(ref _disposed, 1);
        _ready.Writer.TryComplete(TcpTransport.StackDisposed($"the listener on port {LocalEndPoint.Port}"));
        while (_ready.Reader.TryRead(out _)) { } // their connections fail on their own
    }

    /// <summary>Loop thread: hands completed handshakes to the application, up to the backlog.</summary>
    internal void Fill()
    {
        if (_disposed != 0) return;
        while (_ready.Reader.Count < _queue.Backlog && _queue.TryAccept() is { } tcb)
        {
            _ready.Writer.TryWrite(_transport.Adopt(tcb));
        }
    }

    /// <summary>Stops listening; connections not yet accepted are reset.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _ready.Writer.TryComplete();
        _transport.Post(_ =>
        {
            _transport.StopListening(_queue.Port);
            while (_ready.Reader.TryRead(out var waiting)) waiting.Abort();
            while (_queue.TryAccept() is { } tcb) tcb.Abort();
        });
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
