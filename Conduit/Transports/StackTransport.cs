using System.Net;
using Apps.Stack;
using Apps.Stack.Netif;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;
using Microsoft.Extensions.Logging;

namespace Apps.Conduit.Transports;

/// <summary>
/// Connections over our own TCP/IP stack on a TAP device (<c>--stack tap:NAME,...</c>). The stack has no
/// resolver yet, so hosts must be IPv4 literals; IPv6 is not available on it yet.
/// </summary>
public sealed class StackTransport : IConduitTransport
{
    private readonly TapInterface _tap;
    private readonly NetworkStack _stack;

    private StackTransport(TapInterface tap, NetworkStack stack)
    {
        _tap = tap;
        _stack = stack;
        Name = "tap:" + tap.Name;
    }

    public string Name { get; }

    /// <summary>How long <see cref="OpenAsync"/> waits for a DHCP lease with <c>ip=dhcp</c>.</summary>
    public static TimeSpan DhcpTimeout { get; } = TimeSpan.FromSeconds(60);

    /// <summary>The stack itself (counters, address).</summary>
    public NetworkStack Stack => _stack;

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
        var transport = new StackTransport(tap, stack);
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
        if (!IPAddress.TryParse(host, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new ConduitException($"our stack has no DNS resolver or IPv6 yet; give an IPv4 address instead of '{host}'");
        }

        TcpConnection connection;
        try
        {
            connection = await _stack.ConnectTcpAsync(Ipv4Address.Parse(host), checked((ushort)port), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TcpConnectionException or NetworkStackException)
        {
            throw new ConduitException($"cannot connect to {host} port {port} over {Name}: {e.Message}", e);
        }

        return Wrap(connection);
    }

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
