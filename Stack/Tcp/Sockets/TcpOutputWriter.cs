using System.Buffers;
using System.IO.Pipelines;

namespace Apps.Stack.Tcp;

// Read this first. The application writes straight into the free part of the TCP core's send ring
// (TcpSendBuffer.FreeMemory), on its own thread; a flush publishes the total written and posts one "count them
// in" to the loop (coalesced: a flag says one is on its way). So a byte is copied once on our side.
// What does not fit waits, and is moved into the ring by the loop as ACKs free room, without waking the
// application for every refill: the rest of a WriteAsync's source (the caller's memory, held until the write
// completes), or overflow blocks, where GetMemory's bytes go when the ring has no room for what it asks (once
// overflow holds anything, later writes go there too, so order is kept). The application hands that "pending"
// work to the loop and awaits one completion; while it waits the loop owns the writer's ring position and its
// overflow, and gives them back by completing the wait (or by failing it). One application writer at a time
// (PipeWriter's own rule).

/// <summary>
/// <see cref="TcpConnection.Output"/>: a <see cref="PipeWriter"/> whose memory is the connection's send buffer.
/// Flushes and writes after the connection ended throw its <see cref="TcpConnectionException"/> (or
/// <see cref="ObjectDisposedException"/> once the stack is disposed).
/// </summary>
internal sealed class TcpOutputWriter : PipeWriter
{
    private readonly TcpConnection _connection;
    private readonly TcpControlBlock _tcb;
    private readonly List<(byte[] Block, int Length)> _overflow = [];
    private readonly Action<TimeSpan> _cancelPending;
    private long _written;                  // bytes advanced into the ring in all (the application's, or the loop's while pending)
    private long _published;                // what the loop may count in
    private int _commitPosted;              // 1 while a commit is queued on the loop
    private bool _inRing;                   // the last GetMemory handed out ring memory (else an overflow block)
    private int _handedOut;                 // and how much
    private ReadOnlyMemory<byte> _source;   // pending: the rest of a WriteAsync, after the overflow
    private TaskCompletionSource<bool>? _pending; // set while the loop moves pending bytes: true = done, false = cancelled
    private volatile Exception? _failure;
    private volatile bool _completed;

    public TcpOutputWriter(TcpConnection connection, TcpControlBlock tcb)
    {
        _connection = connection;
        _tcb = tcb;
        _cancelPending = _ => CancelPending();
    }

    /// <summary>Bytes still in overflow blocks (after completion the loop moves them).</summary>
    public bool HasOverflow => _overflow.Count > 0;

    /// <summary>Loop thread: the application waits while the loop moves pending bytes in (see <see cref="MovePending"/>).</summary>
    public bool IsPending => Volatile.Read(ref _pending) is not null;

    // As a Pipe's writer, getting memory never fails for a connection that ended: the next flush says so.
    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        ThrowIfCompleted();
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        if (_overflow.Count == 0)
        {
            var free = _tcb.SendBufferMemory(_written);
            if (free.Length >= Math.Max(sizeHint, 1))
            {
                _inRing = true;
                _handedOut = free.Length;
                return free;
            }
        }

        _inRing = false;
        return OverflowMemory(sizeHint);
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (_inRing)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, _handedOut);
            _written += bytes;
            _handedOut -= bytes;
            return;
        }

        var (block, length) = _overflow[^1];
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length + bytes, block.Length);
        _overflow[^1] = (block, length + bytes);
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_failure is { } failure)
        {
            return ValueTask.FromException<FlushResult>(failure);
        }

        if (_overflow.Count > 0)
        {
            return WaitForPendingAsync(ReadOnlyMemory<byte>.Empty, cancellationToken);
        }

        Publish();
        return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));
    }

    // Copies what fits on the caller's thread; the loop moves the rest straight from the caller's memory.
    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (_failure is { } failure)
        {
            return ValueTask.FromException<FlushResult>(failure);
        }

        if (_overflow.Count == 0)
        {
            source = source[CopyIntoRing(source.Span)..];
            if (source.IsEmpty)
            {
                Publish();
                return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: false));
            }
        }

        return WaitForPendingAsync(source, cancellationToken);
    }

    private async ValueTask<FlushResult> WaitForPendingAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken)
    {
        var pending = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _source = source;
        Volatile.Write(ref _published, _written);
        Volatile.Write(ref _pending, pending); // after the rest of the hand-over, for a loop that looks before the post
        _connection.PostMovePending(); // the loop owns _written, _overflow and _source until `pending` completes
        bool done;
        using (cancellationToken.Register(static w => ((TcpOutputWriter)w!).CancelPendingFlush(), this))
        {
            done = await pending.Task.ConfigureAwait(false);
        }

        if (_failure is { } failure)
        {
            throw failure;
        }

        return new FlushResult(isCanceled: !done, isCompleted: false);
    }

    public override void CancelPendingFlush() => _connection.Post(_cancelPending);

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        Volatile.Write(ref _published, _written);
        // The loop sends what is left (moving overflow in as room frees), then FIN; or resets on an error.
        _connection.PostFinishSend(exception);
    }

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        if (exception is null && _overflow.Count > 0 && _failure is null && !_completed)
        {
            try
            {
                await WaitForPendingAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TcpConnectionException or ObjectDisposedException)
            {
                // The connection is gone; completing cannot deliver anything more.
            }
        }

        Complete(exception);
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("the TCP connection's Output was completed; no more writes are allowed");
        }
    }

    private Memory<byte> OverflowMemory(int sizeHint)
    {
        if (_overflow.Count > 0)
        {
            var (last, length) = _overflow[^1];
            if (last.Length - length >= Math.Max(sizeHint, 1))
            {
                return last.AsMemory(length);
            }
        }

        var block = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, BlockMemoryPool.BlockSize));
        _overflow.Add((block, 0));
        return block;
    }

    // Copies what fits into the ring (both sides of its end); returns how many bytes.
    private int CopyIntoRing(ReadOnlySpan<byte> data)
    {
        int copied = 0;
        while (copied < data.Length)
        {
            var free = _tcb.SendBufferMemory(_written).Span;
            if (free.IsEmpty)
            {
                break;
            }

            int n = Math.Min(free.Length, data.Length - copied);
            data.Slice(copied, n).CopyTo(free);
            _written += n;
            copied += n;
        }

        return copied;
    }

    private void Publish()
    {
        Volatile.Write(ref _published, _written);
        if (Interlocked.Exchange(ref _commitPosted, 1) == 0)
        {
            _connection.PostCommit();
        }
    }

    /// <summary>Loop thread: takes the published total for counting in; later publishes post again.</summary>
    public long TakePublished()
    {
        Volatile.Write(ref _commitPosted, 0);
        return Volatile.Read(ref _published);
    }

    /// <summary>
    /// Loop thread, while the application waits on pending bytes (or after it completed): moves overflow, then the
    /// rest of the write's source, into the ring as far as it fits, and publishes. True when nothing is left; a
    /// waiting writer is then released.
    /// </summary>
    public bool MovePending()
    {
        while (_overflow.Count > 0)
        {
            var (block, length) = _overflow[0];
            int moved = CopyIntoRing(block.AsSpan(0, length));
            if (moved < length)
            {
                Buffer.BlockCopy(block, moved, block, 0, length - moved);
                _overflow[0] = (block, length - moved);
                Volatile.Write(ref _published, _written);
                return false;
            }

            _overflow.RemoveAt(0);
            ArrayPool<byte>.Shared.Return(block);
        }

        _source = _source[CopyIntoRing(_source.Span)..];
        Volatile.Write(ref _published, _written);
        if (!_source.IsEmpty)
        {
            return false;
        }

        Release(true);
        return true;
    }

    // Loop thread: a cancelled wait keeps what is left of the source (copied: the caller's memory is theirs again).
    private void CancelPending()
    {
        if (_pending is null)
        {
            return;
        }

        if (!_source.IsEmpty)
        {
            var rest = ArrayPool<byte>.Shared.Rent(Math.Max(_source.Length, BlockMemoryPool.BlockSize));
            _source.Span.CopyTo(rest);
            _overflow.Add((rest, _source.Length));
            _source = default;
        }

        Release(false);
    }

    private void Release(bool done)
    {
        var pending = _pending;
        _pending = null;
        pending?.TrySetResult(done);
    }

    /// <summary>Any thread (the loop, or the disposing thread once it stopped): the connection is over.</summary>
    public void Fail(Exception failure)
    {
        _failure ??= failure;
        _source = default;
        Release(true);
    }
}
