using System.Buffers;

namespace Apps.Tls.Adapters;

/// <summary>
/// Decrypted bytes waiting for the application: one contiguous array, written by the engine at the end and
/// consumed from the front. Space is reclaimed (compacted) only while the engine writes, which happens only
/// inside a read, after the application has advanced past what it was given. The array is rented from
/// <see cref="ArrayPool{T}.Shared"/> and given back as soon as the application has consumed everything (a
/// reader may not touch a buffer it advanced past): a connection holds plaintext memory only while data waits,
/// and a burst of connections each answering one request reuses the same few arrays instead of allocating one each.
/// </summary>
internal sealed class PlaintextBuffer : IBufferWriter<byte>
{
    /// <summary>Plaintext beyond which the connection stops decrypting until the application consumes.</summary>
    public const int Limit = 1 << 20;

    // Grown on demand (doubling from 4 KiB): a connection that only shakes hands and answers one small request
    // should not hold two records' worth of memory. Empty (not pooled) while nothing waits.
    private byte[] _array = [];
    private int _start;
    private int _end;

    public int Length => _end - _start;

    /// <summary>Bytes of array held (0 while nothing waits: the array is back in the pool).</summary>
    public int Capacity => _array.Length;

    public ReadOnlySequence<byte> Sequence => new(_array, _start, _end - _start);

    /// <summary>Offset of <paramref name="position"/> from the start of <see cref="Sequence"/>.</summary>
    public int OffsetOf(SequencePosition position) => position.GetInteger() - _start;

    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            _start = 0;
            _end = 0;
            Return(_array);
            _array = [];
        }
    }

    public void Advance(int count) => _end += count;

    // Reserve first: it may replace _array, and `_array.AsMemory(Reserve(...))` would slice the old one.
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        var at = Reserve(sizeHint);
        return _array.AsMemory(at);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        var at = Reserve(sizeHint);
        return _array.AsSpan(at);
    }

    private int Reserve(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_array.Length - _end >= needed)
        {
            return _end;
        }

        var length = _end - _start;
        // Reading stops at Limit; one more chunk of records (32 KiB of input) may still land after it.
        if (length + needed > 2 * Limit)
        {
            throw new InvalidOperationException(
                $"more than {Limit} bytes of received data are waiting unconsumed; the application must consume what it reads");
        }

        var target = _array.Length >= length + needed ? _array : ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(_array.Length * 2, 4096), length + needed));
        Buffer.BlockCopy(_array, _start, target, 0, length);
        if (!ReferenceEquals(target, _array))
        {
            Return(_array);
        }

        _array = target;
        _start = 0;
        _end = length;
        return _end;
    }

    private static void Return(byte[] array)
    {
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
