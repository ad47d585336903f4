using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Org.BouncyCastle.Security;

namespace Apps.Conduit.Dns;

/// <summary>
/// Asks a DNS server for SRV records over UDP (RFC 1035 §4.2.1), and again over TCP (§4.2.2, RFC 7766 §5) when the
/// UDP answer comes back truncated; the server is the first nameserver in
/// /etc/resolv.conf unless one is given. Records come back as the server sent them ("." targets included);
/// <see cref="SrvOrder"/> and <see cref="XmppTargets"/> decide what to try.
/// </summary>
public sealed class SrvResolver
{
    private const int MaxUdpResponse = 4096;
    private readonly IPEndPoint? _server;
    private readonly TimeSpan _timeout;
    private readonly SecureRandom _random;
    private readonly TimeProvider _time;

    /// <param name="random">Picks query ids (Fortuna in production).</param>
    /// <param name="server">The DNS server; null for /etc/resolv.conf's first nameserver.</param>
    /// <param name="timeout">How long to wait for the answer.</param>
    /// <param name="time">The clock for the timeout.</param>
    public SrvResolver(SecureRandom random, IPEndPoint? server = null, TimeSpan? timeout = null, TimeProvider? time = null)
    {
        _random = random;
        _time = time ?? TimeProvider.System;
        _server = server;
        _timeout = timeout ?? TimeSpan.FromSeconds(3);
    }

    /// <summary>Returns a uniform integer in [0, <paramref name="max"/>] from the resolver's randomness (for RFC 2782 weights).</summary>
    public int Uniform(int max) => _random.Next(max + 1);

    /// <summary>The SRV records of <paramref name="name"/> as answered; empty when there are none.</summary>
    /// <exception cref="DnsFormatException">The answer was unusable.</exception>
    /// <exception cref="TimeoutException">No answer in time.</exception>
    /// <exception cref="SocketException">The server could not be reached (e.g. refused the TCP retry).</exception>
    public async Task<IReadOnlyList<SrvRecord>> QueryAsync(string name, CancellationToken cancellationToken = default)
    {
        var server = _server ?? SystemNameserver() ?? throw new DnsFormatException("no nameserver in /etc/resolv.conf");
        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await QueryUdpAsync(server, name, deadline.Token).ConfigureAwait(false)
                ?? await QueryTcpAsync(server, name, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the DNS server {server} did not answer for {name} within {_timeout.TotalSeconds:0}s");
        }
    }

    /// <summary>The UDP exchange; null when the answer was truncated.</summary>
    private async Task<List<SrvRecord>?> QueryUdpAsync(IPEndPoint server, string name, CancellationToken cancellationToken)
    {
        var id = NewId();
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(SrvMessage.BuildQuery(id, name), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[MaxUdpResponse];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (SrvMessage.IsTruncatedAnswer(buffer.AsSpan(0, received), id))
            {
                return null;
            }

            try
            {
                return SrvMessage.ParseResponse(buffer.AsSpan(0, received), id, name);
            }
            catch (DnsFormatException) when (received >= 2 && (buffer[0] << 8 | buffer[1]) != id)
            {
                // RFC 5452 §9.1: not our answer; keep waiting for ours
            }
        }
    }

    /// <summary>RFC 1035 §4.2.2: the same question over TCP, each message behind a two-octet length.</summary>
    private async Task<List<SrvRecord>> QueryTcpAsync(IPEndPoint server, string name, CancellationToken cancellationToken)
    {
        var id = NewId();
        var query = SrvMessage.BuildQuery(id, name);
        var framed = new byte[2 + query.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(framed, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        var length = new byte[2];
        await ReceiveExactlyAsync(socket, length, cancellationToken).ConfigureAwait(false);
        // The length field bounds the answer at 65535 octets; one allocation of at most that.
        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
        await ReceiveExactlyAsync(socket, message, cancellationToken).ConfigureAwait(false);
        return SrvMessage.ParseResponse(message, id, name);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                throw new DnsFormatException("the DNS server closed the TCP connection before the whole answer");
            }

            buffer = buffer[received..];
        }
    }

    private ushort NewId()
    {
        var bytes = new byte[2];
        _random.NextBytes(bytes);
        return BinaryPrimitives.ReadUInt16BigEndian(bytes);
    }

    private static IPEndPoint? SystemNameserver()
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/resolv.conf"))
            {
                var parts = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && parts[0] == "nameserver" && IPAddress.TryParse(parts[1], out var address))
                {
                    return new IPEndPoint(address, 53);
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }
}
