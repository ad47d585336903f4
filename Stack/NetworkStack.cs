using Apps.Stack.Ip;
using Apps.Stack.Netif;
using Apps.Stack.Udp;
using Apps.Stack.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Apps.Stack;

/// <summary>
/// A pure-C# IPv4 stack on one <see cref="INetworkInterface"/>: ARP, IPv4, ICMP echo and errors, UDP
/// sockets, DHCP or static addressing. One event loop thread per stack drives the sans-IO cores; every
/// public member is safe to call from any thread.
/// </summary>
/// <example>
/// <code>
/// using var tap = TapInterface.Open("tap0");
/// await using var stack = new NetworkStack(tap, new NetworkStackOptions { Address = Ipv4Settings.Parse("10.0.0.2/24") });
/// var rtt = await stack.PingAsync(Ipv4Address.Parse("10.0.0.1"), TimeSpan.FromSeconds(1));
/// </code>
/// </example>
public sealed partial class NetworkStack : IAsyncDisposable, IDisposable
{
    private readonly INetworkInterface _netif;
    private readonly NetworkStackOptions _options;
    private readonly Ipv4Interface _ip;
    private readonly StackLoop _loop;
    private readonly Dictionary<uint, (TaskCompletionSource<TimeSpan> Reply, TimeSpan SentAt)> _pings = [];
    private readonly ushort _echoIdentifier;
    private ushort _echoSequence;
    private volatile Ipv4Settings? _settings;
    private readonly List<TaskCompletionSource<Ipv4Settings>> _addressWaiters = [];
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopped = new();

    /// <summary>Creates the stack and starts its loop and the interface.</summary>
    public NetworkStack(INetworkInterface netif, NetworkStackOptions options)
    {
        ArgumentNullException.ThrowIfNull(netif);
        ArgumentNullException.ThrowIfNull(options);
        _netif = netif;
        _options = options;
        _logger = options.LoggerFactory?.CreateLogger<NetworkStack>() ?? NullLogger<NetworkStack>.Instance;
        Counters = new StackCounters();
        Span<byte> random = stackalloc byte[8];
        options.RandomBytes(random);
        MacAddress = options.MacAddress ?? MacAddress.LocallyAdministered(random);
        _echoIdentifier = (ushort)(random[6] << 8 | random[7]);
        _ip = new Ipv4Interface(MacAddress, netif.Mtu, netif.Transmit, options.RandomBytes, Counters, netif.Offloads, netif.Transmit)
        {
            EchoReplyReceived = OnEchoReply,
        };
        // A link the loop can read itself (TAP) is read on the loop thread, each frame processed where it was
        // read; any other link pushes its frames into the loop's inbox from its own thread.
        var source = netif.FrameSource;
        StackLoop.FrameHandler receive = source is not null && options.Entropy is not null ? ReceiveStamped : _ip.Receive;
        _loop = new StackLoop(options.Name, options.TimeProvider, Poll, receive, options.MaxQueuedFrames, Counters,
            e => StackLog.CoreFailed(_logger, options.Name, e), options.MaxQueuedBytes, source);
        if (source is null)
        {
            netif.Start((ReadOnlySpan<byte> frame, in FrameOffload offload) =>
            {
                StampArrival();
                _loop.PostFrame(frame, offload.ChecksumTrusted);
            });
        }
        if (options.Address is { } address)
            _loop.Post(now => Configure(address, now));
        if (options.UseDhcp)
            _loop.Post(StartDhcp);
    }

    // Packet arrival times feed the entropy accumulator (as the kernel's interrupt timings feed its pool).
    private void StampArrival()
    {
        if (_options.Entropy is not { } entropy)
            return;
        Span<byte> stamp = stackalloc byte[8];
        BitConverter.TryWriteBytes(stamp, _options.TimeProvider.GetTimestamp());
        entropy(stamp);
    }

    private void ReceiveStamped(ReadOnlySpan<byte> frame, bool checksumTrusted, TimeSpan now)
    {
        StampArrival();
        _ip.Receive(frame, checksumTrusted, now);
    }

    /// <summary>Our MAC address.</summary>
    public MacAddress MacAddress { get; }

    /// <summary>The current address configuration, or null while there is none.</summary>
    public Ipv4Settings? Address => _settings;

    /// <summary>Packet and drop counters.</summary>
    public StackCounters Counters { get; }

    /// <summary>The link MTU.</summary>
    public int Mtu => _netif.Mtu;

    /// <summary>Completes when the stack has an address (at once when configured statically).</summary>
    public Task<Ipv4Settings> WaitForAddressAsync(CancellationToken cancellationToken = default)
    {
        var tcs = new TaskCompletionSource<Ipv4Settings>(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Post(_ =>
        {
            if (_settings is { } s)
                tcs.TrySetResult(s);
            else
                _addressWaiters.Add(tcs);
        });
        return tcs.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Sends an ICMP echo request (RFC 792) and returns the round-trip time measured on the stack's clock.
    /// </summary>
    /// <exception cref="TimeoutException">No reply within <paramref name="timeout"/>.</exception>
    /// <exception cref="NetworkStackException">The request could not be sent (no route).</exception>
    public async Task<TimeSpan> PingAsync(Ipv4Address destination, TimeSpan timeout, int dataLength = 56, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dataLength);
        var reply = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        uint key = await _loop.InvokeAsync(now =>
        {
            ushort sequence = _echoSequence++;
            uint k = (uint)_echoIdentifier << 16 | sequence;
            var data = new byte[dataLength];
            for (int i = 0; i < data.Length; i++)
                data[i] = (byte)i;
            _pings[k] = (reply, now);
            var result = _ip.SendEchoRequest(destination, _echoIdentifier, sequence, data, now);
            if (result != DropReason.None)
            {
                _pings.Remove(k);
                reply.TrySetException(NetworkStackException.SendFailed(result, $"echo request to {destination}"));
            }
            return k;
        }).ConfigureAwait(false);
        try
        {
            return await reply.Task.WaitAsync(timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no echo reply from {destination} within {timeout.TotalMilliseconds} ms; check the address and that the host answers ping");
        }
        finally
        {
            _loop.Post(_ => _pings.Remove(key));
        }
    }

    /// <summary>Opens a UDP socket on <paramref name="port"/> (0 for an ephemeral port).</summary>
    /// <exception cref="NetworkStackException">The port is in use.</exception>
    public async Task<UdpSocket> OpenUdpAsync(ushort port = 0)
    {
        var socket = new UdpSocket(this, _options.UdpReceiveQueueLength);
        ushort bound = await _loop.InvokeAsync(_ => _ip.BindUdp(port, socket)).ConfigureAwait(false);
        if (bound == 0)
            throw new NetworkStackException(DropReason.None, $"UDP port {port} is already in use on this stack; pick another port or 0 for any");
        socket.LocalPort = bound;
        return socket;
    }

    internal StackLoop Loop => _loop;

    /// <summary>The injected randomness (TCP draws its initial sequence numbers' secret from it).</summary>
    internal Action<Span<byte>> RandomBytes => _options.RandomBytes;

    /// <summary>The injected clock, for shells (connect timeouts) above the loop.</summary>
    internal TimeProvider TimeProvider => _options.TimeProvider;

    internal Ipv4Interface Interface => _ip;

    /// <summary>
    /// Cancelled by <see cref="Dispose"/> once the loop has stopped, on the disposing thread: shells
    /// (TCP) fail whatever still waits on the loop, and may touch loop state in the callback.
    /// </summary>
    internal CancellationToken Stopped => _stopped.Token;

    /// <summary>Plugs TCP in (see <see cref="ITcpTransport"/>); runs on the loop thread.</summary>
    internal Task AttachTcpAsync(ITcpTransport tcp) => _loop.InvokeAsync(_ =>
    {
        tcp.Attach(_ip);
        _ip.Tcp = tcp;
        return true;
    });

    private void Configure(Ipv4Settings? settings, TimeSpan now)
    {
        if (settings == _settings)
            return;
        _ip.Configure(settings, now);
        _settings = settings;
        if (settings is null)
        {
            StackLog.AddressRemoved(_logger, _options.Name);
            return;
        }
        StackLog.AddressConfigured(_logger, _options.Name, settings);
        foreach (var waiter in _addressWaiters)
            waiter.TrySetResult(settings);
        _addressWaiters.Clear();
    }

    private void OnEchoReply(Ipv4Address source, ushort identifier, ushort sequence, ReadOnlySpan<byte> data, TimeSpan now)
    {
        uint key = (uint)identifier << 16 | sequence;
        if (identifier == _echoIdentifier && _pings.Remove(key, out var ping))
            ping.Reply.TrySetResult(now - ping.SentAt);
    }

    private TimeSpan Poll(TimeSpan now)
    {
        PollDhcp(now);
        // Bounded: loop-back traffic to ourselves can provoke more (a ping to self, then its reply).
        for (int round = 0; round < 16 && _ip.NextDeadline() <= now; round++)
            _ip.Poll(now);
        var next = _ip.NextDeadline();
        var dhcp = DhcpDeadline();
        return dhcp < next ? dhcp : next;
    }

    /// <summary>Stops the loop and disposes the interface.</summary>
    public void Dispose()
    {
        _loop.Dispose();
        _netif.Dispose();
        // The loop thread has stopped: its state can be touched here. Nobody waits forever.
        var disposed = new ObjectDisposedException(nameof(NetworkStack), "the network stack was disposed");
        foreach (var waiter in _addressWaiters)
            waiter.TrySetException(disposed);
        _addressWaiters.Clear();
        foreach (var ping in _pings.Values)
            ping.Reply.TrySetException(disposed);
        _pings.Clear();
        _stopped.Cancel();
    }

    /// <summary>
    /// Gives a DHCP lease back to its server (RFC 2131 §4.4.6), then stops like <see cref="Dispose"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (await _loop.InvokeAsync(now => _dhcp?.Release(now) ?? false).ConfigureAwait(false))
            {
                // The release is unicast and may wait for ARP: give it up to a second to leave.
                using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10), _options.TimeProvider);
                for (int tick = 0; tick < 100 && await _loop.InvokeAsync(_ => _ip.AwaitingResolution).ConfigureAwait(false); tick++)
                    await timer.WaitForNextTickAsync().ConfigureAwait(false);
            }
        }
        catch (ObjectDisposedException)
        {
            // Already stopped.
        }
        Dispose();
    }
}
