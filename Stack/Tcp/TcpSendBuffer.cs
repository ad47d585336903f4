namespace Apps.Stack.Tcp;

/// <summary>
/// Bounded ring of bytes written by the application and not yet acknowledged. Offset 0 is
/// SND.UNA (the oldest unacknowledged byte).
/// </summary>
internal sealed class TcpSendBuffer
{
    private readonly int _capacity;
    private byte[]? _ring; // allocated on first write, so half-open connections stay cheap
    private int _head;

    public TcpSendBuffer(int capacity) => _capacity = capacity;

    public int Count { get; private set; }
    public int Capacity => _capacity;
    public int Free => _capacity - Count;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns the bytes taken.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Free);
        var ring = _ring ??= new byte[_capacity];
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
    }
}
