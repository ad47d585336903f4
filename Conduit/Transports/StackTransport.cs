using System.Net;
using Apps.Stack;
using Apps.Stack.Netif;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;
using Apps.Conduit.Dns;
using Microsoft.Extensions.Logging;
using Org.BouncyCastle.Security;

namespace Apps.Conduit.Transports;

/// <summary>
/// Connections over our own TCP/IP stack on a TAP device (<c>--stack tap:NAME,...</c>). Host names are resolved
/// over the same stack (<see cref="Resolver"/>); the stack has no IPv6 yet, so only A records are asked for.
/// </summary>
public sealed class StackTransport : IConduitTransport
{
    private readonly TapInterface _tap;
    private readonly NetworkStack _stack;
    private readonly TransportSpec _spec;

    private StackTransport(TapInterface tap, NetworkStack stack, TransportSpec spec, Action<Span<byte>> random, TimeProvider time)
    {
        _tap = tap;
        _stack = stack;
        _spec = spec;
        Name = "tap:" + tap.Name;
        Resolver = new DnsResolver(new SecureRandom(new SpanRandomGenerator(random)), () => DnsServer(spec, stack), time: time,
            exchange: new StackDnsExchange(stack));
    }

    public string Name { get; }

    /// <summary>How long <see cref="OpenAsync"/> waits for a DHCP lease with <c>ip=dhcp</c>.</summary>
    public static TimeSpan DhcpTimeout { get; } = TimeSpan.FromSeconds(60);

    /// <summary>The stack itself (counters, address).</summary>
    public NetworkStack Stack => _stack;

    /// <summary>
    /// DNS over this stack: asks the spec's <c>dns=</c> server, else the first DNS server of the DHCP lease
    /// (RFC 2132 §3.8). <see cref="ConnectAsync"/> uses it for names; give it to
    /// <see cref="ConduitOptions.Resolver"/> so that <c>xmpp://</c> SRV lookups go over the stack too.
    /// </summary>
    public DnsResolver Resolver { get; }

    /// <summary>Opens the TAP device and starts the stack on it.</summary>
    /// <param name="spec">Device and address settings.</param>
    /// <param name="random">Fills buffers with randomness (Fortuna): MAC address, ISNs, ephemeral ports.</param>
    /// <param name="packetEntropy">Receives packet-arrival timestamps for the entropy pools, or null.</param>
    /// <param name="loggers">Logging, or null.</param>
    /// <param name="time">The stack's clock.</param>
    public static async Task<StackTransport> OpenAsync(TransportSpec spec, Action<Span<byte>> random, Action<ReadOnlySpan<byte>>? packetEntropy = null,
        ILoggerFactory? loggers = null, TimeProvider? time = null)
    {
        if (spec.IsHost)
        {
            throw new ArgumentException("the host spec has no TAP device; use HostSocketTransport", nameof(spec));
        }

        TapInterface tap;
        try
        {
            tap = TapInterface.Open(spec.TapName!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NetworkStackException or InvalidOperationException)
        {
            throw new ConduitException($"cannot open TAP device {spec.TapName} ({e.Message}); run as root or give CAP_NET_ADMIN", e);
        }

        var stack = new NetworkStack(tap, new NetworkStackOptions
        {
            Name = "tap:" + spec.TapName,
            Address = spec.Address,
            UseDhcp = spec.UseDhcp,
            RandomBytes = random,
            Entropy = packetEntropy,
            LoggerFactory = loggers,
            TimeProvider = time ?? TimeProvider.System,
        });
        await stack.UseTcpAsync(new TcpSettings(), random).ConfigureAwait(false);
        var transport = new StackTransport(tap, stack, spec, random, time ?? TimeProvider.System);
        if (spec.UseDhcp)
        {
            // Listeners report the stack's address, so start serving only once DHCP (RFC 2131) gave one.
            using var deadline = new CancellationTokenSource(DhcpTimeout);
            try
            {
                await stack.WaitForAddressAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await transport.DisposeAsync().ConfigureAwait(false);
                throw new ConduitException($"no DHCP lease on {tap.Name} within {DhcpTimeout.TotalSeconds:0}s; check the DHCP server on that link or give ip=ADDR/PREFIX");
            }
        }

        return transport;
    }

    public async Task<ConduitConnection> ConnectAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<IPAddress> addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = literal.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                ? [literal]
                : throw new ConduitException($"our stack has no IPv6 yet; give an IPv4 address or a name instead of '{host}'");
        }
        else
        {
            addresses = await ResolveAsync(host, cancellationToken).ConfigureAwait(false);
        }

        // The stack is IPv4 only, so there is nothing to race (RFC 8305): the addresses are tried in DNS order.
        var failures = new List<string>();
        foreach (var address in addresses)
        {
            try
            {
                var connection = await _stack.ConnectTcpAsync(Ipv4Address.FromIPAddress(address), checked((ushort)port), cancellationToken: cancellationToken).ConfigureAwait(false);
                return Wrap(connection);
            }
            catch (Exception e) when (e is TcpConnectionException or NetworkStackException)
            {
                failures.Add(addresses.Count == 1 ? e.Message : $"{address}: {e.Message}");
            }
        }

        throw new ConduitException($"cannot connect to {host} port {port} over {Name}: {string.Join("; ", failures)}");
    }

    private async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (DnsServer(_spec, _stack) is null)
        {
            throw new ConduitException($"cannot resolve {host} over {Name}: no DNS server is known; add dns=ADDR to --stack, or use ip=dhcp with a DHCP server that names one");
        }

        List<IPAddress> addresses;
        try
        {
            addresses = await Resolver.QueryIPv4Async(host, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            throw new ConduitException($"'{host}' is not a host name or an IPv4 address");
        }
        catch (Exception e) when (e is DnsFormatException or TimeoutException or IOException)
        {
            throw new ConduitException($"cannot resolve {host} over {Name}: {e.Message}", e);
        }

        return addresses.Count > 0
            ? addresses
            : throw new ConduitException($"{host} has no IPv4 address in DNS (our stack has no IPv6 yet); check the name");
    }

    private static IPEndPoint? DnsServer(TransportSpec spec, NetworkStack stack) =>
        (spec.DnsServer ?? stack.Lease?.DnsServers.FirstOrDefault()) is { } server ? new IPEndPoint(server.ToIPAddress(), 53) : null;

    public async Task<IConduitListener> ListenAsync(IPEndPoint local, CancellationToken cancellationToken = default)
    {
        if (local.Port == 0)
        {
            throw new ConduitException($"give a port to listen on over {Name}; our stack does not pick one");
        }

        var listener = await _stack.ListenTcpAsync((ushort)local.Port).ConfigureAwait(false);
        return new Listener(listener, this);
    }

    private ConduitConnection Wrap(TcpConnection connection) =>
        new(connection, connection.LocalEndPoint, connection.RemoteEndPoint, Name, connection.DisposeAsync, connection.Abort);

    public async ValueTask DisposeAsync()
    {
        await _stack.DisposeAsync().ConfigureAwait(false);
        _tap.Dispose();
    }

    private sealed class Listener(TcpListener listener, StackTransport transport) : IConduitListener
    {
        public IPEndPoint LocalEndPoint => listener.LocalEndPoint;

        public async ValueTask<ConduitConnection?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return transport.Wrap(await listener.AcceptAsync(cancellationToken).ConfigureAwait(false));
            }
            catch (ObjectDisposedException)
            {
                return null;
            }
        }

        public ValueTask DisposeAsync() => listener.DisposeAsync();
    }
}
