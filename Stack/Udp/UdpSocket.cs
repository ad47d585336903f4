using System.Threading.Channels;
using Apps.Stack.Ip;
using Apps.Stack.Wire;

namespace Apps.Stack.Udp;

/// <summary>A datagram received on a <see cref="UdpSocket"/>.</summary>
/// <param name="RemoteAddress">Sender's address.</param>
/// <param name="RemotePort">Sender's port.</param>
/// <param name="Data">The payload (owned by the receiver).</param>
public readonly record struct UdpReceiveResult(Ipv4Address RemoteAddress, ushort RemotePort, byte[] Data);

/// <summary>
/// A UDP socket on a <see cref="NetworkStack"/> (RFC 768). Unconnected by default; after
/// <see cref="Connect"/>, an ICMP port unreachable for the peer makes the next receive fail (as
/// BSD sockets report ECONNREFUSED only on connected sockets). Thread-safe.
/// </summary>
public sealed class UdpSocket : IDisposable, IUdpReceiver
{
    private readonly NetworkStack _stack;
    private readonly Channel<UdpReceiveResult> _received;
    private volatile NetworkStackException? _error;
    // A reference, so Connect on one thread and the loop reading it never see a torn address/port pair.
    private volatile Peer? _connected;

    private sealed record Peer(Ipv4Address Address, ushort Port);
    private int _disposed;

    internal UdpSocket(NetworkStack stack, int queueLength)
    {
        _stack = stack;
        _received = Channel.CreateBounded<UdpReceiveResult>(new BoundedChannelOptions(queueLength)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = false,
            SingleWriter = true,
        });
    }

    /// <summary>The local port.</summary>
    public ushort LocalPort { get; internal set; }

    /// <summary>Datagrams dropped because the receive queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    private long _dropped;

    /// <summary>Limits receives to one peer and reports its port unreachable errors.</summary>
    public void Connect(Ipv4Address address, ushort port) => _connected = new Peer(address, port);

    /// <summary>Sends one datagram. Completes once the stack has sent it (or queued it behind ARP).</summary>
    /// <exception cref="NetworkStackException">No route, or larger than a UDP datagram can be.</exception>
    public async Task SendToAsync(ReadOnlyMemory<byte> data, Ipv4Address address, ushort port, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var result = await _stack.Loop.InvokeAsync(now => _stack.Interface.SendUdp(LocalPort, address, port, data.Span, now))
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        if (result != DropReason.None)
            throw NetworkStackException.SendFailed(result, $"UDP datagram to {address}:{port}");
    }

    /// <summary>Sends to the connected peer.</summary>
    public Task SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        _connected is { } peer
            ? SendToAsync(data, peer.Address, peer.Port, cancellationToken)
            : throw new InvalidOperationException("the socket is not connected; call Connect first or use SendToAsync");

    /// <summary>Waits for the next datagram.</summary>
    /// <exception cref="NetworkStackException">The connected peer answered with ICMP port unreachable.</exception>
    public async ValueTask<UdpReceiveResult> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _error, null) is { } error)
            throw error;
        while (true)
        {
            UdpReceiveResult result;
            try
            {
                result = await _received.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                throw new ObjectDisposedException(nameof(UdpSocket));
            }
            // A default entry only wakes the reader to report an error.
            if (result.Data is not null)
                return result;
            if (Interlocked.Exchange(ref _error, null) is { } late)
                throw late;
        }
    }

    void IUdpReceiver.OnDatagram(Ipv4Address source, ushort sourcePort, Ipv4Address destination, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        if (_connected is { } peer && (peer.Address != source || peer.Port != sourcePort))
            return;
        if (!_received.Writer.TryWrite(new UdpReceiveResult(source, sourcePort, payload.ToArray())))
        {
            Interlocked.Increment(ref _dropped);
            _stack.Counters.CountDrop(DropReason.QueueFull);
        }
    }

    void IUdpReceiver.OnUnreachable(Ipv4Address remote, ushort remotePort, byte code)
    {
        if (_connected is not { } peer || peer.Address != remote || peer.Port != remotePort)
            return;
        _error = code switch
        {
            IcmpV4UnreachableCode.Port => new NetworkStackException(DropReason.NoListener,
                $"nothing listens on UDP {remote}:{remotePort} (ICMP port unreachable); check the port and that the service runs"),
            IcmpV4UnreachableCode.Host => new NetworkStackException(DropReason.Unresolved,
                $"host {remote} is unreachable (no ARP answer or ICMP host unreachable); check the address and that the host is up"),
            _ => new NetworkStackException(DropReason.NoRoute,
                $"{remote}:{remotePort} is unreachable (ICMP destination unreachable, code {code}); check the route to it"),
        };
        // Wake a pending receive so it sees the error.
        _received.Writer.TryWrite(default);
    }

    /// <summary>Closes the socket and frees the port.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _received.Writer.TryComplete();
        ushort port = LocalPort;
        _stack.Loop.Post(_ => _stack.Interface.UnbindUdp(port));
    }
}
