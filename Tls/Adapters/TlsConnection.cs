// Read this first: the I/O shell around TlsEngine. Two loops share one engine:
//   read loop:  transport.Input -> engine.Process -> (records to the send queue, plaintext to Input)
//   write loop: Output (the application's writes) -> engine.Write -> the send queue
// Engine calls are synchronous under _gate and append to one ordered send queue; whoever produced bytes
// then moves the queue to transport.Output under _transportLock and flushes. No lock is held while waiting
// on back-pressure except _transportLock, so a side blocked on a full transport still reads (no deadlock
// when both sides write at once), and records reach the wire in the order the engine made them.
using System.Buffers;
using System.IO.Pipelines;
using Apps.Tls.Engine;

namespace Apps.Tls.Adapters;

/// <summary>
/// A TLS connection over any transport pipe or stream, seen by the application as an <see cref="IDuplexPipe"/>
/// (or a <see cref="Stream"/> via <see cref="AsStream"/>). Completing <see cref="Output"/> sends close_notify
/// and half-closes the transport; <see cref="Input"/> completes when the peer's close_notify arrives, or
/// throws a <see cref="TlsException"/> on failure or truncation.
/// </summary>
public sealed class TlsConnection : IDuplexPipe, IAsyncDisposable
{
    private const int RecordPlaintext = 16 * 1024;

    private readonly TlsEngine _engine;
    private readonly IDuplexPipe _transport;
    private readonly Stream? _ownedStream;
    private readonly TimeProvider _time;
    private readonly Pipe _inbound = new(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false));
    private readonly Pipe _outbound = new(new PipeOptions(minimumSegmentSize: RecordPlaintext, useSynchronizationContext: false));
    private readonly object _gate = new();
    private readonly SemaphoreSlim _transportLock = new(1, 1);
    private ArrayBufferWriter<byte> _sendQueue = new();
    private ArrayBufferWriter<byte> _sendSpare = new();
    private readonly TaskCompletionSource<TlsConnectionInfo> _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private bool _transportOutputDone;
    private int _disposed;

    private TlsConnection(TlsEngine engine, IDuplexPipe transport, Stream? ownedStream, TimeProvider? time)
    {
        _engine = engine;
        _transport = transport;
        _ownedStream = ownedStream;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Decrypted data from the peer.</summary>
    public PipeReader Input => _inbound.Reader;

    /// <summary>Data for the peer; complete it to send close_notify.</summary>
    public PipeWriter Output => _outbound.Writer;

    /// <summary>What the handshake negotiated.</summary>
    public TlsConnectionInfo Connection { get; private set; } = null!;

    /// <summary>Runs a client handshake over <paramref name="transport"/>.</summary>
    public static Task<TlsConnection> ConnectAsync(
        IDuplexPipe transport, TlsClientOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        new TlsConnection(TlsEngine.CreateClient(options), transport, null, time).StartAsync(cancellationToken);

    /// <summary>Runs a server handshake over <paramref name="transport"/>.</summary>
    public static Task<TlsConnection> AcceptAsync(
        IDuplexPipe transport, TlsServerOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        new TlsConnection(TlsEngine.CreateServer(options), transport, null, time).StartAsync(cancellationToken);

    /// <summary>Runs a client handshake over a stream (a NetworkStream, say); the connection owns the stream.</summary>
    public static Task<TlsConnection> ConnectAsync(
        Stream transport, TlsClientOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        new TlsConnection(TlsEngine.CreateClient(options), new StreamTransport(transport), transport, time).StartAsync(cancellationToken);

    /// <summary>Runs a server handshake over a stream; the connection owns the stream.</summary>
    public static Task<TlsConnection> AcceptAsync(
        Stream transport, TlsServerOptions options, TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        new TlsConnection(TlsEngine.CreateServer(options), new StreamTransport(transport), transport, time).StartAsync(cancellationToken);

    /// <summary>The connection as a <see cref="Stream"/>; disposing the stream disposes the connection.</summary>
    public Stream AsStream() => new TlsConnectionStream(this);

    /// <summary>Sends a TLS 1.3 KeyUpdate (RFC 8446 §4.6.3).</summary>
    public async Task RequestKeyUpdateAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _engine.RequestKeyUpdate(_sendQueue);
        }

        await SendQueuedAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends close_notify if not yet sent, stops both loops and releases the transport.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _outbound.Writer.CompleteAsync().ConfigureAwait(false);
        await Quietly(_writeLoop).ConfigureAwait(false);
        _stop.Cancel();
        _transport.Input.CancelPendingRead();
        await Quietly(_readLoop).ConfigureAwait(false);
        await _inbound.Reader.CompleteAsync().ConfigureAwait(false);
        await CompleteTransportOutputAsync().ConfigureAwait(false);
        await _transport.Input.CompleteAsync().ConfigureAwait(false);
        if (_ownedStream is not null)
        {
            await _ownedStream.DisposeAsync().ConfigureAwait(false);
        }

        _stop.Dispose();
    }


    private async Task<TlsConnection> StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            lock (_gate)
            {
                _engine.Process(default, _time.GetUtcNow(), _sendQueue, _inbound.Writer);
            }

            await SendQueuedAsync(cancellationToken).ConfigureAwait(false);

            _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
            Connection = await _handshake.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            _writeLoop = Task.Run(WriteLoopAsync, CancellationToken.None);
            return this;
        }
        catch
        {
            await DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception? ending = null;
        try
        {
            while (true)
            {
                var result = await _transport.Input.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                long consumed = 0;
                lock (_gate)
                {
                    foreach (var segment in buffer)
                    {
                        var step = _engine.Process(segment.Span, _time.GetUtcNow(), _sendQueue, _inbound.Writer);
                        consumed += step.Consumed;
                        if (step.Consumed < segment.Length)
                        {
                            break;
                        }
                    }
                }

                await SendQueuedAsync(_stop.Token, wait: false).ConfigureAwait(false);

                _transport.Input.AdvanceTo(buffer.GetPosition(consumed), buffer.End);
                DrainEvents();
                await _inbound.Writer.FlushAsync(_stop.Token).ConfigureAwait(false);

                if (_engine.Error is { } error)
                {
                    ending = error;
                    break;
                }

                if (_engine.State is TlsEngineState.PeerClosed or TlsEngineState.Closed)
                {
                    break;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    // RFC 8446 §6.1: a transport close without close_notify may hide a truncation attack.
                    ending = new TlsException(TlsFault.Peer, null, false,
                        "the peer closed the connection without close_notify; the data may be truncated");
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            ending = new OperationCanceledException("the TLS connection was closed locally");
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            ending = new TlsException(TlsFault.Peer, null, false, $"the transport failed: {e.Message}", e);
        }

        _handshake.TrySetException(ending ?? new TlsException(TlsFault.Peer, null, false, "the peer closed the connection during the handshake"));
        await _inbound.Writer.CompleteAsync(ending).ConfigureAwait(false);
        if (_engine.Error is not null)
        {
            // Wake the write loop so that the application's writes fail with the same error.
            _outbound.Reader.CancelPendingRead();
        }
    }

    private void DrainEvents()
    {
        while (_engine.TryDequeueEvent(out var tlsEvent))
        {
            switch (tlsEvent)
            {
                case TlsHandshakeCompleted completed:
                    _handshake.TrySetResult(completed.Connection);
                    break;
                case TlsFailed failed:
                    _handshake.TrySetException(failed.Error);
                    break;
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        var chunk = ArrayPool<byte>.Shared.Rent(RecordPlaintext);
        try
        {
            while (true)
            {
                var result = await _outbound.Reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (_engine.Error is { } error)
                {
                    throw error;
                }

                // Coalesce pipe segments into full records (RFC 8446 §5.1: at most 2^14 bytes each) and
                // hand the transport up to four records at a time.
                var rest = buffer;
                while (!rest.IsEmpty)
                {
                    lock (_gate)
                    {
                        for (var records = 0; records < 4 && !rest.IsEmpty; records++)
                        {
                            var take = (int)Math.Min(rest.Length, RecordPlaintext);
                            var slice = rest.Slice(0, take);
                            if (slice.IsSingleSegment)
                            {
                                _engine.Write(slice.FirstSpan, _sendQueue);
                            }
                            else
                            {
                                slice.CopyTo(chunk);
                                _engine.Write(chunk.AsSpan(0, take), _sendQueue);
                            }

                            rest = rest.Slice(take);
                        }
                    }

                    await SendQueuedAsync(CancellationToken.None).ConfigureAwait(false);
                }

                _outbound.Reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            await CloseWriteAsync().ConfigureAwait(false);
            await _outbound.Reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is TlsException or IOException or InvalidOperationException or OperationCanceledException)
        {
            await _outbound.Reader.CompleteAsync(e).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private async Task CloseWriteAsync()
    {
        lock (_gate)
        {
            if (_engine.Error is null && _engine.Connection is not null)
            {
                _engine.CloseWrite(_sendQueue);
            }
        }

        await SendQueuedAsync(CancellationToken.None).ConfigureAwait(false);
        await CompleteTransportOutputAsync().ConfigureAwait(false);
    }

    private async Task CompleteTransportOutputAsync()
    {
        await _transportLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_transportOutputDone)
            {
                _transportOutputDone = true;
                await _transport.Output.CompleteAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _transportLock.Release();
        }
    }

    /// <summary>
    /// Moves everything the engine queued so far to the transport, in order, and flushes it. With
    /// <paramref name="wait"/> false (the read loop) it never waits for the transport: if another caller is
    /// sending, that caller picks the bytes up, because every sender re-checks the queue after releasing.
    /// </summary>
    private async Task SendQueuedAsync(CancellationToken cancellationToken, bool wait = true)
    {
        while (true)
        {
            lock (_gate)
            {
                if (_sendQueue.WrittenCount == 0)
                {
                    return;
                }
            }

            if (wait)
            {
                await _transportLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            else if (!_transportLock.Wait(0, CancellationToken.None))
            {
                return;
            }

            try
            {
                await DrainQueueAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _transportLock.Release();
            }
        }
    }

    private async Task DrainQueueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ArrayBufferWriter<byte> taken;
            lock (_gate)
            {
                if (_sendQueue.WrittenCount == 0)
                {
                    return;
                }

                taken = _sendQueue;
                _sendQueue = _sendSpare;
                _sendSpare = taken;
            }

            try
            {
                if (!_transportOutputDone)
                {
                    _transport.Output.Write(taken.WrittenSpan);
                    await _transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                taken.ResetWrittenCount();
            }
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
