using System.Buffers;
using System.IO.Pipelines;

namespace Apps.Tls.Adapters;

/// <summary>
/// The application's side of <see cref="TlsConnection.Output"/>: buffers what is written and, on flush,
/// encrypts and sends it on the caller's own task (no hop through a background loop). Completing it sends
/// close_notify. Like every <see cref="PipeWriter"/>, one writer at a time.
/// </summary>
internal sealed class TlsOutputWriter(TlsConnection connection) : PipeWriter
{
    // Starts small and grows with what the application writes (a handshake-and-one-response connection stays small).
    private readonly ArrayBufferWriter<byte> _pending = new(1024);
    private CancellationTokenSource? _flushCancel;
    private CancellationTokenSource? _cancelSource;
    private Task? _completion;
    private bool _completed;

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _pending.WrittenCount;

    public override void Advance(int bytes) => _pending.Advance(bytes);

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        ThrowIfCompleted();
        return _pending.GetMemory(Math.Max(sizeHint, 1));
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        ThrowIfCompleted();
        return _pending.GetSpan(Math.Max(sizeHint, 1));
    }

    public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (_pending.WrittenCount == 0)
        {
            return new FlushResult(false, false);
        }

        // One token source serves every flush (CancelPendingFlush cancels it) until it is cancelled; the caller's token
        // reaches it through a registration instead of a linked source made per flush.
        var cancel = _flushCancel = _cancelSource ??= new CancellationTokenSource();
        var link = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), cancel)
            : default;
        try
        {
            await connection.WriteAsync(new ReadOnlySequence<byte>(_pending.WrittenMemory), cancel.Token).ConfigureAwait(false);
            _pending.ResetWrittenCount();
            return new FlushResult(false, false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new FlushResult(true, false);
        }
        finally
        {
            link.Dispose();
            _flushCancel = null;
            if (cancel.IsCancellationRequested)
            {
                _cancelSource = null;
                cancel.Dispose();
            }
        }
    }

    public override async ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (_pending.WrittenCount > 0)
        {
            _pending.Write(source.Span);
            return await FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        // Nothing buffered: encrypt straight from the caller's memory.
        await connection.WriteAsync(new ReadOnlySequence<byte>(source), cancellationToken).ConfigureAwait(false);
        return new FlushResult(false, false);
    }

    public override void CancelPendingFlush() => _flushCancel?.Cancel();

    /// <summary>Starts completing (the last data, close_notify, the transport's FIN) without waiting for it: Kestrel
    /// calls this synchronously, under its own lock, and waiting there for a full transport to drain would hold a
    /// thread (with inline socket completions, the very event loop that drains it). <see cref="CompleteAsync"/> (and
    /// disposing the connection) waits for the same completion.</summary>
    public override void Complete(Exception? exception = null)
    {
        var completing = CompleteAsync(exception);
        if (!completing.IsCompleted)
        {
            completing.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        else
        {
            // Surface a synchronous failure as before; a completed ValueTask must still be consumed.
            completing.GetAwaiter().GetResult();
        }
    }

    public override ValueTask CompleteAsync(Exception? exception = null) => new(_completion ??= CompleteCoreAsync(exception));

    private async Task CompleteCoreAsync(Exception? exception)
    {
        _completed = true;
        try
        {
            if (exception is null && _pending.WrittenCount > 0)
            {
                await connection.WriteAsync(new ReadOnlySequence<byte>(_pending.WrittenMemory), CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _pending.ResetWrittenCount();
            await connection.CloseWriteAsync().ConfigureAwait(false);
        }
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("the TLS output is complete (close_notify was sent); no more data can be written");
        }
    }
}
