using System.Net;
using System.Net.Sockets;

namespace Apps.Conduit.Dns;

/// <summary>DNS over the host's sockets.</summary>
public sealed class HostDnsExchange : IDnsExchange
{
    /// <summary>The one instance; it holds no state.</summary>
    public static HostDnsExchange Instance { get; } = new();

    public async Task<IDnsDatagramChannel> OpenUdpAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
            return new Channel(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task<Stream> ConnectTcpAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class Channel(Socket socket) : IDnsDatagramChannel
    {
        public Task SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken) =>
            socket.SendAsync(datagram, SocketFlags.None, cancellationToken).AsTask();

        public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

        public void Dispose() => socket.Dispose();
    }
}
