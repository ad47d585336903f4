using System.Net;
using Apps.Stack;
using Apps.Stack.Tcp;
using Apps.Stack.Udp;
using Apps.Stack.Wire;

namespace Apps.Conduit.Dns;

/// <summary>DNS over our own TCP/IP stack (IPv4 only, as the stack is).</summary>
public sealed class StackDnsExchange(NetworkStack stack) : IDnsExchange
{
    public async Task<IDnsDatagramChannel> OpenUdpAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        var address = ToIpv4(server);
        var socket = await stack.OpenUdpAsync().ConfigureAwait(false);
        socket.Connect(address, (ushort)server.Port); // datagrams from anyone else are dropped (RFC 5452 §9.1)
        return new Channel(socket);
    }

    public async Task<Stream> ConnectTcpAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        try
        {
            var connection = await stack.ConnectTcpAsync(ToIpv4(server), (ushort)server.Port, cancellationToken: cancellationToken).ConfigureAwait(false);
            return connection.AsStream();
        }
        catch (TcpConnectionException e)
        {
            throw new IOException($"cannot reach the DNS server {server} over TCP: {e.Message}", e);
        }
    }

    private static Ipv4Address ToIpv4(IPEndPoint server) =>
        server.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? Ipv4Address.FromIPAddress(server.Address)
            : throw new IOException($"the DNS server {server} is not an IPv4 address; our stack has no IPv6 yet");

    private sealed class Channel(UdpSocket socket) : IDnsDatagramChannel
    {
        public Task SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken) => socket.SendAsync(datagram, cancellationToken);

        public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            UdpReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (NetworkStackException e)
            {
                throw new IOException($"the DNS server did not take the query: {e.Message}", e);
            }

            var length = Math.Min(result.Data.Length, buffer.Length);
            result.Data.AsSpan(0, length).CopyTo(buffer.Span);
            return length;
        }

        public void Dispose() => socket.Dispose();
    }
}
