using System.Buffers;
using System.Net.Sockets;
using System.Security.Cryptography;
using Apps.Tls.Entropy.HostProtocol;
using Apps.Tls.Entropy.Sources;
using Microsoft.Extensions.Logging;

namespace Apps.Tools.Entropyd;

/// <summary>Where and how the daemon serves.</summary>
internal sealed record DaemonOptions
{
    public string? UnixSocket { get; init; }
    public uint? VsockPort { get; init; }
    public HostEntropyLimits Limits { get; init; } = new();
    public int MaxConnections { get; init; } = 256;
    /// <summary>A started frame must be complete within this time (slow-request defence).</summary>
    public TimeSpan FrameTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>A connection with no request for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The host side of the host entropy protocol: accepts guests on a Unix socket (and AF_VSOCK),
/// runs a <see cref="HostEntropyServerSession"/> per connection and serves bytes from the host
/// operating system's generator. Every connection is independent: a malformed, greedy, slow or
/// vanished guest only ever loses its own connection.
/// </summary>
internal sealed class EntropyDaemon : IAsyncDisposable
{
    private readonly DaemonOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly List<Socket> _listeners = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _acceptLoops = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, Task> _connections = new();
    private int _active;
    private string? _boundUnixSocket;
    private VsockSocket.VsockListener? _vsock;
    private int _nextId;
    private long _served;
    private long _refused;

    public EntropyDaemon(DaemonOptions options, ILogger logger, TimeProvider? time = null)
    {
        options.Limits.Validate();
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public int ActiveConnections => Volatile.Read(ref _active);

    public long BytesServed => Interlocked.Read(ref _served);

    public long ConnectionsRefused => Interlocked.Read(ref _refused);

    public void Start()
    {
        if (_options.UnixSocket is { } path)
        {
            _listeners.Add(BindUnix(path));
            _boundUnixSocket = path;
            DaemonLog.Listening(_logger, $"unix:{path}");
        }
        if (_options.VsockPort is { } port)
        {
            try
            {
                _vsock = VsockSocket.Listen(port, 64);
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"cannot listen on vsock port {port}: {e.Message} (is the vhost_vsock module loaded?)", e);
            }
            // accept(2) on a vsock blocks, and .NET cannot accept one itself: a thread of its own waits.
            var accepting = new TaskCompletionSource();
            var thread = new Thread(() =>
            {
                try
                {
                    while (_vsock.Accept() is { } client)
                    {
                        Admit(client);
                    }
                }
                finally
                {
                    accepting.TrySetResult();
                }
            })
            {
                IsBackground = true,
                Name = "entropyd vsock accept",
            };
            thread.Start();
            _acceptLoops.Add(accepting.Task);
            DaemonLog.Listening(_logger, $"vsock:any:{port}");
        }
        if (_listeners.Count == 0 && _vsock is null)
        {
            throw new InvalidOperationException("nothing to listen on: give --unix PATH and/or --vsock PORT");
        }
        foreach (Socket listener in _listeners)
        {
            _acceptLoops.Add(AcceptLoopAsync(listener));
        }
    }

    private static Socket BindUnix(string path)
    {
        if (File.Exists(path))
        {
            // A socket file left by a daemon that died: remove it, unless a live daemon answers there.
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new InvalidOperationException($"another daemon is already serving on {path}");
            }
            catch (SocketException)
            {
                File.Delete(path);
            }
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(128);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e) when (!_stop.IsCancellationRequested)
            {
                DaemonLog.AcceptFailed(_logger, e.Message);
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            Admit(client);
        }
    }

    private void Admit(Socket client)
    {
        if (Interlocked.Increment(ref _active) > _options.MaxConnections)
        {
            Interlocked.Decrement(ref _active);
            Interlocked.Increment(ref _refused);
            _ = RefuseAsync(client);
            return;
        }
        int id = Interlocked.Increment(ref _nextId);
        _connections[id] = ServeAsync(id, client);
    }

    private async Task RefuseAsync(Socket client)
    {
        using (client)
        {
            var output = new ArrayBufferWriter<byte>();
            HostEntropyFrame.WriteError(output, HostEntropyError.Unavailable,
                $"the host serves at most {_options.MaxConnections} connections; retry later", TimeSpan.FromSeconds(1));
            try
            {
                await client.SendAsync(output.WrittenMemory, SocketFlags.None).ConfigureAwait(false);
            }
            catch (SocketException)
            {
            }
        }
    }

    private async Task ServeAsync(int id, Socket client)
    {
        await Task.Yield();
        var session = new HostEntropyServerSession(_options.Limits, RandomNumberGenerator.Fill, Now());
        var output = new ArrayBufferWriter<byte>(HostEntropyFrame.HeaderLength + _options.Limits.MaxRequestBytes);
        byte[] input = new byte[256];
        int buffered = 0;
        string reason = "closed by the guest";
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                TimeSpan limit = buffered > 0 ? _options.FrameTimeout : _options.IdleTimeout;
                using var timeout = new CancellationTokenSource(limit, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, _stop.Token);
                int n;
                try
                {
                    n = await client.ReceiveAsync(input.AsMemory(buffered), SocketFlags.None, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    reason = buffered > 0 ? $"a frame was not completed within {limit.TotalSeconds:0} s" : "idle";
                    return;
                }
                if (n == 0)
                {
                    return;
                }
                buffered += n;
                var sequence = new ReadOnlySequence<byte>(input, 0, buffered);
                SessionStep step = session.Process(sequence, Now(), output, out SequencePosition consumed);
                int used = (int)sequence.Slice(0, consumed).Length;
                Buffer.BlockCopy(input, used, input, 0, buffered - used);
                buffered -= used;
                if (output.WrittenCount > 0)
                {
                    // A guest that stops reading must not hold its slot forever: sends time out too.
                    using var sendTimeout = new CancellationTokenSource(_options.FrameTimeout, _time);
                    using var sendLinked = CancellationTokenSource.CreateLinkedTokenSource(sendTimeout.Token, _stop.Token);
                    try
                    {
                        await client.SendAsync(output.WrittenMemory, SocketFlags.None, sendLinked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (sendTimeout.IsCancellationRequested)
                    {
                        reason = "the guest stopped reading replies";
                        return;
                    }
                    finally
                    {
                        output.Clear(); // zeroes the served bytes as well
                    }
                }
                if (step == SessionStep.Close)
                {
                    reason = "malformed input";
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            reason = e.Message;
        }
        finally
        {
            Interlocked.Add(ref _served, session.BytesServed);
            client.Dispose();
            Interlocked.Decrement(ref _active);
            _connections.TryRemove(id, out _);
            DaemonLog.ConnectionClosed(_logger, id, session.RequestsServed, session.BytesServed, reason);
        }
    }

    private TimeSpan Now() => TimeSpan.FromTicks((long)(_time.GetTimestamp() * (TimeSpan.TicksPerSecond / (double)_time.TimestampFrequency)));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (Socket listener in _listeners)
        {
            listener.Dispose();
        }
        _vsock?.Dispose();
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
        // Only a socket this daemon bound is removed: never another live daemon's.
        if (_boundUnixSocket is { } path)
        {
            File.Delete(path);
        }
        _stop.Dispose();
    }
}

internal static partial class DaemonLog
{
    [LoggerMessage(1100, LogLevel.Information, "entropyd listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(1101, LogLevel.Warning, "accept failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    [LoggerMessage(1102, LogLevel.Debug, "connection {Id} ended after {Requests} requests, {Bytes} bytes: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, int id, long requests, long bytes, string reason);
}
