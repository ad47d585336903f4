using System.Net;

namespace Apps.Conduit.Dns;

/// <summary>
/// What carries DNS messages to a server for <see cref="DnsResolver"/>: the host's sockets
/// (<see cref="HostDnsExchange"/>) or our own stack (<see cref="StackDnsExchange"/>).
/// </summary>
public interface IDnsExchange
{
    /// <summary>A UDP socket that sends to and receives from <paramref name="server"/> only.</summary>
    Task<IDnsDatagramChannel> OpenUdpAsync(IPEndPoint server, CancellationToken cancellationToken);

    /// <summary>A TCP connection to <paramref name="server"/> (RFC 7766), for answers too big for UDP.</summary>
    Task<Stream> ConnectTcpAsync(IPEndPoint server, CancellationToken cancellationToken);
}

/// <summary>Datagrams to and from one DNS server.</summary>
public interface IDnsDatagramChannel : IDisposable
{
    /// <summary>Sends one datagram.</summary>
    Task SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken);

    /// <summary>Waits for the next datagram from the server and copies what fits into <paramref name="buffer"/>.</summary>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}
