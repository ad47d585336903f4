using System.Net;
using System.Net.Sockets;
using Org.BouncyCastle.Security;

namespace Apps.Conduit.Dns;

/// <summary>
/// Asks a DNS server for SRV records over UDP (RFC 1035 §4.2.1), the server being the first nameserver in
/// /etc/resolv.conf unless one is given. Records come back as the server sent them ("." targets included);
/// <see cref="SrvOrder"/> and <see cref="XmppTargets"/> decide what to try.
/// </summary>
public sealed class SrvResolver
{
    private const int MaxResponse = 4096;
    private readonly IPEndPoint? _server;
    private readonly TimeSpan _timeout;
    private readonly SecureRandom _random;

    /// <param name="random">Picks query ids (Fortuna in production).</param>
    /// <param name="server">The DNS server; null for /etc/resolv.conf's first nameserver.</param>
    /// <param name="timeout">How long to wait for the answer.</param>
    public SrvResolver(SecureRandom random, IPEndPoint? server = null, TimeSpan? timeout = null)
    {
        _random = random;
        _server = server;
        _timeout = timeout ?? TimeSpan.FromSeconds(3);
    }

    /// <summary>Returns a uniform integer in [0, <paramref name="max"/>] from the resolver's randomness (for RFC 2782 weights).</summary>
    public int Uniform(int max) => _random.Next(max + 1);

    /// <summary>The SRV records of <paramref name="name"/> as answered; empty when there are none.</summary>
    /// <exception cref="DnsFormatException">The answer was unusable.</exception>
    /// <exception cref="TimeoutException">No answer in time.</exception>
    public async Task<IReadOnlyList<SrvRecord>> QueryAsync(string name, CancellationToken cancellationToken = default)
    {
        var server = _server ?? SystemNameserver() ?? throw new DnsFormatException("no nameserver in /etc/resolv.conf");
        var idBytes = new byte[2];
        _random.NextBytes(idBytes);
        var id = (ushort)(idBytes[0] << 8 | idBytes[1]);
        using var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(server, cancellationToken).ConfigureAwait(false);
        await socket.SendAsync(SrvMessage.BuildQuery(id, name), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        var buffer = new byte[MaxResponse];
        while (true)
        {
            int received;
            try
            {
                received = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"the DNS server {server} did not answer for {name} within {_timeout.TotalSeconds:0}s");
            }

            List<SrvRecord> records;
            try
            {
                records = SrvMessage.ParseResponse(buffer.AsSpan(0, received), id, name);
            }
            catch (DnsFormatException) when (received >= 2 && (buffer[0] << 8 | buffer[1]) != id)
            {
                continue; // RFC 5452 §9.1: not our answer; keep waiting for ours
            }

            return records;
        }
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
