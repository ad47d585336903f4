using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Apps.Tls.Engine;

namespace Apps.Tls.Adapters;

/// <summary>
/// The application's side of <see cref="TlsConnection.Input"/>: each read that needs data reads the transport
/// and decrypts on the caller's task. Completes after the peer's close_notify; throws the connection's
/// <see cref="TlsException"/> on failure or truncation. Like every <see cref="PipeReader"/>, one reader at a time.
/// </summary>
internal sealed class TlsInputReader(TlsConnection connection) : PipeReader
{
    private int _examined;
    private volatile bool _cancelRequested;
    private bool _completed;

    // Pooled: this read waits for the transport once per request, and a fresh state machine box each time was a fifth
    // of a small HTTPS request's allocation (the ValueTask is awaited once, as a PipeReader's always is).
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (TryRead(out var result))
            {
                return result;
            }

            await connection.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override bool TryRead(out ReadResult result)
    {
        ThrowIfCompleted();
        var plaintext = connection.Plaintext;
        if (_cancelRequested)
        {
            _cancelRequested = false;
            result = new ReadResult(plaintext.Sequence, isCanceled: true, isCompleted: false);
            return true;
        }

        if (plaintext.Length > _examined)
        {
            result = new ReadResult(plaintext.Sequence, isCanceled: false, isCompleted: false);
            return true;
        }

        switch (connection.Ending)
        {
            case null:
                result = default;
                return false;
            case var clean when ReferenceEquals(clean, TlsConnection.CleanClose):
                result = new ReadResult(plaintext.Sequence, isCanceled: false, isCompleted: true);
                return true;
            case var error:
                throw error;
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var plaintext = connection.Plaintext;
        var consumedBytes = plaintext.OffsetOf(consumed);
        var examinedBytes = plaintext.OffsetOf(examined);
        plaintext.Consume(consumedBytes);
        _examined = examinedBytes - consumedBytes;
    }

    public override void CancelPendingRead()
    {
        _cancelRequested = true;
        connection.CancelPendingTransportRead();
    }

    public override void Complete(Exception? exception = null) => _completed = true;

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("the TLS input was completed; no more reads are allowed");
        }
    }
}
