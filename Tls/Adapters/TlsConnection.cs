// Read this first: the I/O shell around TlsEngine. There are no background loops: work happens on the
// caller's task, as in SslStream.
//   handshake:   StartAsync pumps transport.Input -> engine.Process -> transport.Output until Finished
//   read path:   Input.ReadAsync (TlsInputReader) -> ReceiveAsync -> engine.Process -> plaintext buffer
//   write path:  Output.FlushAsync (TlsOutputWriter) -> engine.Write -> transport.Output
// Engine calls are synchronous under _gate. Records reach the wire in the order the engine made them:
// bytes made while receiving (alerts, KeyUpdate answers) wait in _sendQueue, and whoever holds
// _transportLock first moves that queue to the transport, then writes its own records after it. The read
// path never waits for _transportLock (if it is taken, the holder picks the queue up), so a side blocked on
// a full transport keeps reading, and two sides writing at once cannot deadlock. As with SslStream, the
// peer's alerts and close_notify are seen when the application reads.
using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Apps.Tls.Engine;

namespace Apps.Tls.Adapters;

/// <summary>
/// A TLS connection over any transport pipe or stream, seen by the application as an <see cref="IDuplexPipe"/>
/// (or a <see cref="Stream"/> via <see cref="AsStream"/>). Completing <see cref="Output"/> sends close_notify
/// and half-closes the transport; <see cref="Input"/> completes when the peer's close_notify arrives, or
/// throws a <see cref="TlsException"/> on failure or truncation.
/// </summary>
public sealed partial class TlsConnection : IDuplexPipe, IAsyncDisposable
{
    internal const int RecordPlaintext = 16 * 1024;

    private const int ReceiveChunk = 32 * 1024;

    private readonly TlsEngine _engine;
    private readonly IDuplexPipe _transport;
    private readonly Stream? _ownedStream;
    private readonly TimeProvider _time;
    private readonly PlaintextBuffer _plaintext = new();
    private readonly TlsInputReader _input;
    private readonly TlsOutputWriter _output;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _transportLock = new(1, 1);
    private ArrayBufferWriter<byte> _sendQueue = new();
    private readonly Microsoft.Extensions.Logging.ILogger? _logger;
    private bool _transportOutputDone;
    private int _disposed;

    private TlsConnection(TlsEngine engine, IDuplexPipe transport, Stream? ownedStream, TimeProvider? time, TlsOptions options)
    {
        _logger = options.Logger;
        _engine = engine;
        _transport = transport;
        _ownedStream = ownedStream;
        _time = time ?? TimeProvider.System;
        _output = new TlsOutputWriter(this);
        _input = new TlsInputReader(this);
    }

    /// <summary>Decrypted data from the peer.</summary>
    public PipeReader Input => _input;

    /// <summary>Data for the peer, encrypted and sent on each flush; complete it to send close_notify.</summary>
    public PipeWriter Output => _output;

    /// <summary>What the handshake negotiated.</summary>
    public TlsConnectionInfo Connection { get; private set; } = null!;

    /// <summary>Runs a client handshake over <paramref name="transport"/>.</summary>
    public static Task<TlsConnection> ConnectAsync(
        IDuplexPipe transport, TlsClientOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        new TlsConnection(TlsEngine.CreateClient(options), transport, null, time, options).StartAsync(cancellationToken);

    /// <summary>Runs a server handshake over <paramref name="transport"/>.</summary>
    public static Task<TlsConnection> AcceptAsync(
        IDuplexPipe transport, TlsServerOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        new TlsConnection(TlsEngine.CreateServer(options), transport, null, time, options).StartAsync(cancellationToken);

    /// <summary>Runs a client handshake over a stream (a NetworkStream, say); the connection owns the stream.</summary>
    public static Task<TlsConnection> ConnectAsync(
        Stream transport, TlsClientOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        new TlsConnection(TlsEngine.CreateClient(options), new StreamTransport(transport), transport, time, options).StartAsync(cancellationToken);

    /// <summary>Runs a server handshake over a stream; the connection owns the stream.</summary>
    public static Task<TlsConnection> AcceptAsync(
        Stream transport, TlsServerOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        new TlsConnection(TlsEngine.CreateServer(options), new StreamTransport(transport), transport, time, options).StartAsync(cancellationToken);

    /// <summary>The connection as a <see cref="Stream"/>; disposing the stream disposes the connection.</summary>
    public Stream AsStream() => new TlsConnectionStream(this);

    /// <summary>Sends a TLS 1.3 KeyUpdate (RFC 8446 §4.6.3).</summary>
    public Task RequestKeyUpdateAsync(CancellationToken cancellationToken = default) =>
        SendAsync(static (engine, writer, _) => engine.RequestKeyUpdate(writer), ReadOnlySequence<byte>.Empty, cancellationToken);

    /// <summary>Sends close_notify if not yet sent, stops reading and releases the transport.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Quietly(_output.CompleteAsync().AsTask()).ConfigureAwait(false);
        _transport.Input.CancelPendingRead();
        await CompleteTransportOutputAsync().ConfigureAwait(false);
        await _transport.Input.CompleteAsync().ConfigureAwait(false);
        if (_ownedStream is not null)
        {
            await _ownedStream.DisposeAsync().ConfigureAwait(false);
        }

    }

    /// <summary>Encrypts <paramref name="data"/> into full records (RFC 8446 §5.1: at most 2^14 bytes each) and sends them.</summary>
    internal Task WriteAsync(ReadOnlySequence<byte> data, CancellationToken cancellationToken) =>
        SendAsync(static (engine, writer, data) =>
        {
            while (!data.IsEmpty)
            {
                var take = (int)Math.Min(data.Length, RecordPlaintext);
                var slice = data.Slice(0, take);
                if (slice.IsSingleSegment)
                {
                    engine.Write(slice.FirstSpan, writer);
                }
                else
                {
                    var chunk = ArrayPool<byte>.Shared.Rent(take);
                    slice.CopyTo(chunk);
                    engine.Write(chunk.AsSpan(0, take), writer);
                    ArrayPool<byte>.Shared.Return(chunk);
                }

                data = data.Slice(take);
            }
        }, data, cancellationToken);

    /// <summary>Sends close_notify (once) and half-closes the transport.</summary>
    internal async Task CloseWriteAsync()
    {
        if (_engine.Error is null && _engine.Connection is not null && _engine.State is TlsEngineState.Open or TlsEngineState.PeerClosed)
        {
            await SendAsync(static (engine, writer, _) => engine.CloseWrite(writer), ReadOnlySequence<byte>.Empty, CancellationToken.None)
                .ConfigureAwait(false);
        }

        await CompleteTransportOutputAsync().ConfigureAwait(false);
    }

    /// <summary>Plaintext received and not yet consumed by <see cref="Input"/>.</summary>
    internal PlaintextBuffer Plaintext => _plaintext;

    /// <summary>Why no more input will come: a <see cref="TlsException"/>, or <see cref="CleanClose"/>.</summary>
    internal Exception? Ending { get; private set; }

    internal static Exception CleanClose { get; } = new EndOfStreamException("close_notify received");

    internal void CancelPendingTransportRead() => _transport.Input.CancelPendingRead();

    /// <summary>
    /// Reads once from the transport and runs the bytes through the engine: plaintext lands in
    /// <see cref="Plaintext"/>, replies go to the send queue, and <see cref="Ending"/> is set when the
    /// input is over. Called by the handshake pump and then by <see cref="TlsInputReader"/>, never at once.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))] // once per request; see TlsInputReader.ReadAsync
    internal async ValueTask ReceiveAsync(CancellationToken cancellationToken)
    {
        if (Ending is not null)
        {
            return;
        }

        if (_plaintext.Length >= PlaintextBuffer.Limit)
        {
            throw new InvalidOperationException(
                $"{_plaintext.Length} bytes of received data wait unconsumed; consume what Input returns before reading more");
        }

        ReadResult result;
        try
        {
            result = await _transport.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            Ending = new TlsException(TlsFault.Peer, null, false, $"the transport failed: {e.Message}", e);
            return;
        }

        // A handshake flight costs a key exchange and a signature (about half a millisecond); when the transport
        // delivered it on a thread that is not the pool's (an event loop: our stack's, or a socket engine's with inline
        // completions), do that work in the handshake lane, so that the loop's other connections are not held up and
        // a burst of new connections takes a bounded share of the pool. A server's last flight (the client's Finished)
        // is cheap, and records after the handshake stay on the delivering thread too: a thread wake for each costs
        // more than the work.
        if (_engine.Connection is null && !_engine.AnsweredClientHello && !Thread.CurrentThread.IsThreadPoolThread)
        {
            await HandshakeLane.Enter();
        }

        // Feed at most ReceiveChunk bytes at a time and stop once a megabyte of plaintext waits, leaving the
        // rest in the transport (not examined, so the next read returns it at once).
        var buffer = result.Buffer;
        long consumed = 0;
        var stoppedEarly = false;
        lock (_gate)
        {
            var rest = buffer;
            while (!rest.IsEmpty && !stoppedEarly)
            {
                var chunk = rest.Slice(0, Math.Min(rest.First.Length, ReceiveChunk));
                // Consumed input is ours to overwrite: whole records are decrypted in the transport's buffer.
                var step = MemoryMarshal.TryGetArray(chunk.First, out var segment)
                    ? _engine.ProcessInPlace(segment, _time.GetUtcNow(), _sendQueue, _plaintext)
                    : _engine.Process(chunk.FirstSpan, _time.GetUtcNow(), _sendQueue, _plaintext);
                consumed += step.Consumed;
                rest = rest.Slice(chunk.Length);
                stoppedEarly = step.Consumed < chunk.Length || _plaintext.Length >= PlaintextBuffer.Limit;
            }
        }

        var position = buffer.GetPosition(consumed);
        _transport.Input.AdvanceTo(position, stoppedEarly ? position : buffer.End);
        await SendQueuedAsync(cancellationToken, wait: false).ConfigureAwait(false);
        DrainEvents();

        if (_engine.Error is { } error)
        {
            Ending = error;
            if (_engine.Connection is not null)
            {
                TlsLog.ConnectionFailed(_logger, error);
            }
        }
        else if (_engine.State is TlsEngineState.PeerClosed or TlsEngineState.Closed)
        {
            Ending = CleanClose;
        }
        else if (result.IsCompleted)
        {
            // RFC 8446 §6.1: a transport close without close_notify may hide a truncation attack.
            Ending = new TlsException(TlsFault.Peer, null, false,
                "the peer closed the connection without close_notify; the data may be truncated");
        }
    }

    private async Task<TlsConnection> StartAsync(CancellationToken cancellationToken)
    {
        var activity = TlsTelemetry.StartHandshake(_engine.IsClient);
        var started = _time.GetTimestamp();
        try
        {
            lock (_gate)
            {
                _engine.Process(default, _time.GetUtcNow(), _sendQueue, _plaintext);
            }

            await SendQueuedAsync(cancellationToken, wait: true).ConfigureAwait(false);
            while (_engine.Connection is null)
            {
                await ReceiveAsync(cancellationToken).ConfigureAwait(false);
                await SendQueuedAsync(cancellationToken, wait: true).ConfigureAwait(false);
                if (_engine.Connection is null && Ending is not null)
                {
                    throw Ending is TlsException ? Ending
                        : new TlsException(TlsFault.Peer, null, false, "the peer closed the connection during the handshake");
                }
            }

            Connection = _engine.Connection;
            TlsTelemetry.Completed(activity, _engine.IsClient, Connection, _time.GetElapsedTime(started));
            TlsLog.HandshakeCompleted(_logger, _engine.IsClient, Connection);
            return this;
        }
        catch (Exception e)
        {
            TlsTelemetry.Failed(activity, _engine.IsClient, e);
            TlsLog.HandshakeFailed(_logger, _engine.IsClient, e);
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private void DrainEvents()
    {
        while (_engine.TryDequeueEvent(out _))
        {
            // State and errors are read from the engine itself; events are for callers of the bare engine.
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception e) when (e is TlsException or IOException or InvalidOperationException or OperationCanceledException)
        {
            // The loop already reported its ending through the pipes.
        }
    }
}
