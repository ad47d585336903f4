using System.Net;

namespace Apps.Conduit.Transports;

/// <summary>
/// Something that carries TCP connections: the host's sockets or our own stack over a TAP device. Picked once
/// at start-up (<c>--stack</c>); everything above it is the same code.
/// </summary>
public interface IConduitTransport : IAsyncDisposable
{
    /// <summary>"host", or "tap:NAME" for our stack.</summary>
    string Name { get; }

    /// <summary>Resolves <paramref name="host"/> (unless it is a literal) and connects to it.</summary>
    /// <exception cref="ConduitException">No address answered; the message says what failed.</exception>
    Task<ConduitConnection> ConnectAsync(string host, int port, CancellationToken cancellationToken = default);

    /// <summary>Listens on a local address and port (port 0 picks one).</summary>
    Task<IConduitListener> ListenAsync(IPEndPoint local, CancellationToken cancellationToken = default);
}

/// <summary>Accepts connections until disposed.</summary>
public interface IConduitListener : IAsyncDisposable
{
    /// <summary>The bound address and port.</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>The next connection, or null once the listener is stopped.</summary>
    ValueTask<ConduitConnection?> AcceptAsync(CancellationToken cancellationToken = default);
}

/// <summary>A connection could not be made or kept; the message is one line for people.</summary>
public class ConduitException : IOException
{
    public ConduitException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
