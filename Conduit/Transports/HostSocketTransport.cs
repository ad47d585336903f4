using System.Net;
using System.Net.Sockets;

namespace Apps.Conduit.Transports;

/// <summary>Connections over the host's own TCP/IP stack (<c>--stack host</c>, the default).</summary>
public sealed class HostSocketTransport : IConduitTransport
{
    private readonly HappyEyeballs _racing;
    private readonly Func<AddressFamily, Socket> _createSocket;

    /// <param name="time">The clock for Happy Eyeballs' delays.</param>
    public HostSocketTransport(TimeProvider? time = null)
        : this(time, null, null)
    {
    }

    /// <summary>For tests: sockets made by <paramref name="createSocket"/> (e.g. inside a network namespace) and names
    /// resolved by <paramref name="resolve"/> (one address family per call, as RFC 8305 §3 asks).</summary>
    internal HostSocketTransport(TimeProvider? time, Func<AddressFamily, Socket>? createSocket, Func<string, AddressFamily, CancellationToken, Task<IPAddress[]>>? resolve)
    {
        _createSocket = createSocket ?? (family => new Socket(family, SocketType.Stream, ProtocolType.Tcp));
        _racing = new HappyEyeballs(resolve ?? System.Net.Dns.GetHostAddressesAsync, _createSocket, time ?? TimeProvider.System);
    }

    public string Name => "host";

    /// <summary>Resolves and races the addresses (RFC 8305); cancellation closes every socket it opened.</summary>
    public async Task<ConduitConnection> ConnectAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        var socket = await _racing.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        return Wrap(socket, Name, inlineReads: false);
    }

    public Task<IConduitListener> ListenAsync(IPEndPoint local, CancellationToken cancellationToken = default)
    {
        var socket = _createSocket(local.AddressFamily);
        try
        {
            if (local.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(local);
            socket.Listen(512);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ConduitException($"cannot listen on {local} ({e.SocketErrorCode}); pick another address or port", e);
        }

        return Task.FromResult<IConduitListener>(new Listener(socket, Name));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Wraps a connected socket. Accepted (server) connections hand received data to the application inline
    /// (see <see cref="SocketPipe"/>); client connections keep a thread-pool hop, so that a client that blocks on its
    /// own connection cannot stall that connection's receive loop.</summary>
    internal static ConduitConnection Wrap(Socket socket, string transport, bool inlineReads)
    {
        var pipe = new SocketPipe(socket, inlineReads);
        pipe.Start();
        return new ConduitConnection(pipe, socket.LocalEndPoint, socket.RemoteEndPoint, transport, pipe.DisposeAsync, pipe.Abort, closed: pipe.Closed);
    }

    private sealed class Listener(Socket socket, string transport) : IConduitListener
    {
        public IPEndPoint LocalEndPoint { get; } = (IPEndPoint)socket.LocalEndPoint!;

        public async ValueTask<ConduitConnection?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                Socket accepted;
                try
                {
                    accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is ObjectDisposedException || e is SocketException { SocketErrorCode: SocketError.OperationAborted })
                {
                    return null;
                }
                catch (SocketException)
                {
                    continue; // the client went away between SYN and accept
                }

                return Wrap(accepted, transport, inlineReads: true);
            }
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
