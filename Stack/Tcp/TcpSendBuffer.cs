namespace Apps.Stack.Tcp;

/// <summary>
/// Bounded ring of bytes written by the application and not yet acknowledged. Offset 0 is
/// SND.UNA (the oldest unacknowledged byte).
/// </summary>
/// <remarks>
/// Bytes come in one of two ways, never both for one buffer: <see cref="Write"/> copies them in on the loop
/// thread, or a producer on another thread (the application's <c>TcpOutputWriter</c>) writes them in place into
/// <see cref="FreeMemory"/> and the loop then counts them in with <see cref="Commit"/>. The producer keeps the
/// total it has written; every byte before <c>freed + Count</c> is the core's, every byte after the producer's
/// total is free, and the producer learns what the core released through a total published by
/// <see cref="Consume"/>. Positions in the ring are totals modulo the capacity.
/// </remarks>
internal sealed class TcpSendBuffer
{
    private readonly int _capacity;
    private byte[]? _ring; // allocated on first write, so half-open connections stay cheap
    private int _head;
    private long _freed;   // bytes ever consumed; read by the producer's thread

    public TcpSendBuffer(int capacity) => _capacity = capacity;

    public int Count { get; private set; }
    public int Capacity => _capacity;
    public int Free => _capacity - Count;

    /// <summary>
    /// Any thread (the producer's): the free memory after the <paramref name="written"/> bytes the producer has
    /// written in all, contiguous up to the ring's end (empty when full). Valid until the producer writes more.
    /// </summary>
    public Memory<byte> FreeMemory(long written)
    {
        int free = FreeAfter(written);
        if (free == 0) return Memory<byte>.Empty;
        var ring = Volatile.Read(ref _ring) ?? AllocateRing();
        int tail = (int)(written % _capacity);
        return ring.AsMemory(tail, Math.Min(free, _capacity - tail));
    }

    /// <summary>Any thread: bytes free after the <paramref name="written"/> bytes a producer has written in all.</summary>
    public int FreeAfter(long written) => _capacity - (int)(written - Volatile.Read(ref _freed));

    /// <summary>Loop thread: counts <paramref name="count"/> bytes a producer wrote in place as queued.</summary>
    public void Commit(int count) => Count += count;

    private byte[] AllocateRing()
    {
        Interlocked.CompareExchange(ref _ring, new byte[_capacity], null);
        return _ring;
    }

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns the bytes taken.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Free);
        var ring = _ring ?? AllocateRing();
        int tail = (_head + Count) % _capacity;
        int first = Math.Min(n, _capacity - tail);
        data[..first].CopyTo(ring.AsSpan(tail));
        data[first..n].CopyTo(ring);
        Count += n;
        return n;
    }

    /// <summary>Copies <paramref name="destination"/>.Length bytes starting <paramref name="offset"/> bytes after SND.UNA.</summary>
    public void Peek(int offset, Span<byte> destination)
    {
        if (destination.IsEmpty || _ring is not { } ring) return;
        int start = (_head + offset) % _capacity;
        int first = Math.Min(destination.Length, _capacity - start);
        ring.AsSpan(start, first).CopyTo(destination);
        ring.AsSpan(0, destination.Length - first).CopyTo(destination[first..]);
    }

    /// <summary>
    /// The <paramref name="length"/> bytes starting <paramref name="offset"/> bytes after SND.UNA, in place,
    /// when they do not wrap around the end of the ring (valid until the next write or consume).
    /// </summary>
    public bool TryGetContiguous(int offset, int length, out ReadOnlySpan<byte> bytes)
    {
        bytes = default;
        if (_ring is not { } ring) return false;
        int start = (_head + offset) % _capacity;
        if (start + length > _capacity) return false;
        bytes = ring.AsSpan(start, length);
        return true;
    }

    /// <summary>Releases <paramref name="count"/> acknowledged bytes.</summary>
    public void Consume(int count)
    {
        _head = (_head + count) % _capacity;
        Count -= count;
        Volatile.Write(ref _freed, _freed + count); // after the loop is done with those bytes
    }
}
