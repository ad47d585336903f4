using System.Buffers.Binary;
using System.Net;
using Org.BouncyCastle.Security;

namespace Apps.Conduit.Dns;

/// <summary>
/// A stub resolver: asks one recursive DNS server for A or SRV records over UDP (RFC 1035 §4.2.1), sending the
/// query again if no answer came within a third of the timeout, and over TCP (§4.2.2, RFC 7766 §5) when the UDP
/// answer comes back truncated. Messages travel over the host's sockets or our own stack
/// (<see cref="IDnsExchange"/>). The server is the one given, or else /etc/resolv.conf's first nameserver.
/// Records come back as the server sent them; <see cref="SrvOrder"/> and <see cref="XmppTargets"/> decide what to try.
/// </summary>
public sealed class DnsResolver
{
    private const int MaxUdpResponse = 4096;
    private const int Attempts = 3;
    private readonly Func<IPEndPoint?> _server;
    private readonly IDnsExchange _exchange;
    private readonly TimeSpan _timeout;
    private readonly SecureRandom _random;
    private readonly TimeProvider _time;
    private readonly string _noServer = "no DNS server is known";

    private delegate T Parser<T>(ReadOnlySpan<byte> message, ushort id, string name);

    /// <param name="random">Picks query ids (Fortuna in production).</param>
    /// <param name="server">The DNS server; null for /etc/resolv.conf's first nameserver.</param>
    /// <param name="timeout">How long to wait for the answer (3 s by default).</param>
    /// <param name="time">The clock for the timeout.</param>
    /// <param name="exchange">What carries the messages; the host's sockets by default.</param>
    public DnsResolver(SecureRandom random, IPEndPoint? server = null, TimeSpan? timeout = null, TimeProvider? time = null, IDnsExchange? exchange = null)
        : this(random, server is null ? SystemNameserver : () => server, timeout, time, exchange)
    {
        _noServer = "no DNS server is known (none given, none in /etc/resolv.conf)";
    }

    /// <param name="random">Picks query ids (Fortuna in production).</param>
    /// <param name="server">Says which DNS server to ask at the time of each query (e.g. the one a DHCP lease named); null when none is known.</param>
    /// <param name="timeout">How long to wait for the answer (3 s by default).</param>
    /// <param name="time">The clock for the timeout.</param>
    /// <param name="exchange">What carries the messages; the host's sockets by default.</param>
    public DnsResolver(SecureRandom random, Func<IPEndPoint?> server, TimeSpan? timeout = null, TimeProvider? time = null, IDnsExchange? exchange = null)
    {
        _random = random;
        _time = time ?? TimeProvider.System;
        _server = server;
        _timeout = timeout ?? TimeSpan.FromSeconds(3);
        _exchange = exchange ?? HostDnsExchange.Instance;
    }

    /// <summary>Returns a uniform integer in [0, <paramref name="max"/>] from the resolver's randomness (for RFC 2782 weights).</summary>
    public int Uniform(int max) => _random.Next(max + 1);

    /// <summary>The SRV records of <paramref name="name"/> as answered; empty when there are none.</summary>
    /// <exception cref="DnsFormatException">The answer was unusable, or no server is known.</exception>
    /// <exception cref="TimeoutException">No answer in time.</exception>
    /// <exception cref="IOException">The server could not be reached over our stack (e.g. refused the TCP retry);
    /// over host sockets that is a <see cref="System.Net.Sockets.SocketException"/>.</exception>
    public Task<List<SrvRecord>> QuerySrvAsync(string name, CancellationToken cancellationToken = default) =>
        QueryAsync(name, SrvMessage.BuildQuery, SrvMessage.ParseResponse, cancellationToken);

    /// <summary>The IPv4 addresses of host <paramref name="name"/> (CNAMEs followed); empty when it has none.</summary>
    /// <exception cref="DnsFormatException">The answer was unusable, or no server is known.</exception>
    /// <exception cref="TimeoutException">No answer in time.</exception>
    /// <exception cref="IOException">The server could not be reached over our stack; over host sockets that is a
    /// <see cref="System.Net.Sockets.SocketException"/>.</exception>
    public Task<List<IPAddress>> QueryIPv4Async(string name, CancellationToken cancellationToken = default) =>
        QueryAsync(name, AddressMessage.BuildQuery, AddressMessage.ParseResponse, cancellationToken);

    private async Task<T> QueryAsync<T>(string name, Func<ushort, string, byte[]> build, Parser<T> parse, CancellationToken cancellationToken)
    {
        var server = _server() ?? throw new DnsFormatException(_noServer);
        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var id = NewId();
            var answer = await ExchangeUdpAsync(server, build(id, name), id, deadline.Token).ConfigureAwait(false);
            if (answer is not null)
            {
                return parse(answer, id, name);
            }

            id = NewId();
            answer = await ExchangeTcpAsync(server, build(id, name), deadline.Token).ConfigureAwait(false);
            return parse(answer, id, name);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the DNS server {server} did not answer for {name} within {_timeout.TotalSeconds:0}s");
        }
    }

    /// <summary>The UDP exchange: the response to query <paramref name="id"/>, or null when it was truncated.</summary>
    private async Task<byte[]?> ExchangeUdpAsync(IPEndPoint server, byte[] query, ushort id, CancellationToken cancellationToken)
    {
        using var channel = await _exchange.OpenUdpAsync(server, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[MaxUdpResponse];
        for (var attempt = 1; ; attempt++)
        {
            await channel.SendAsync(query, cancellationToken).ConfigureAwait(false);
            // RFC 1035 §4.2.1: a lost datagram is sent again; the last attempt waits until the deadline.
            using var wait = attempt < Attempts ? new CancellationTokenSource(_timeout / Attempts, _time) : null;
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, wait?.Token ?? CancellationToken.None);
            try
            {
                while (true)
                {
                    var received = await channel.ReceiveAsync(buffer, linked.Token).ConfigureAwait(false);
                    // RFC 5452 §9.1: a datagram with another id is not our answer; keep waiting for ours.
                    if (received >= 12 && BinaryPrimitives.ReadUInt16BigEndian(buffer) == id && (buffer[2] & 0x80) != 0)
                    {
                        return DnsMessage.IsTruncatedAnswer(buffer.AsSpan(0, received), id) ? null : buffer[..received];
                    }
                }
            }
            catch (OperationCanceledException) when (wait?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
            {
                // no answer to this attempt: send again
            }
        }
    }

    /// <summary>RFC 1035 §4.2.2: the same question over TCP, each message behind a two-octet length.</summary>
    private async Task<byte[]> ExchangeTcpAsync(IPEndPoint server, byte[] query, CancellationToken cancellationToken)
    {
        var framed = new byte[2 + query.Length];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)query.Length);
        query.CopyTo(framed, 2);
        await using var stream = await _exchange.ConnectTcpAsync(server, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(framed, cancellationToken).ConfigureAwait(false);
        var length = new byte[2];
        await ReadExactlyAsync(stream, length, cancellationToken).ConfigureAwait(false);
        // The length field bounds the answer at 65535 octets; one allocation of at most that.
        var message = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
        await ReadExactlyAsync(stream, message, cancellationToken).ConfigureAwait(false);
        return message;
    }

    private static async Task ReadExactlyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException)
        {
            throw new DnsFormatException("the DNS server closed the TCP connection before the whole answer");
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
