namespace Apps.Stack.Tcp;

/// <summary>
/// Bounded ring holding in-order bytes ready for the application (the first <see cref="Count"/>)
/// followed by space where out-of-order bytes are written at their offset from RCV.NXT.
/// </summary>
internal sealed class TcpReceiveBuffer
{
    private readonly int _capacity;
    private byte[]? _ring; // allocated on first write, so half-open connections stay cheap
    private int _head;

    public TcpReceiveBuffer(int capacity) => _capacity = capacity;

    /// <summary>In-order bytes the application can read.</summary>
    public int Count { get; private set; }
    public int Capacity => _capacity;
    public int Free => _capacity - Count;

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> bytes past the readable bytes; the caller keeps offset + length within <see cref="Free"/>.</summary>
    public void WriteAt(int offset, ReadOnlySpan<byte> data)
    {
        var ring = _ring ??= new byte[_capacity];
        int start = (_head + Count + offset) % _capacity;
        int first = Math.Min(data.Length, _capacity - start);
        data[..first].CopyTo(ring.AsSpan(start));
        data[first..].CopyTo(ring);
    }

    /// <summary>Makes <paramref name="count"/> bytes already written at offset 0 readable.</summary>
    public void Commit(int count) => Count += count;

    /// <summary>Moves up to <paramref name="destination"/>.Length readable bytes out; returns how many.</summary>
    public int Read(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, Count);
        if (n == 0 || _ring is not { } ring) return 0;
        int first = Math.Min(n, _capacity - _head);
        ring.AsSpan(_head, first).CopyTo(destination);
        ring.AsSpan(0, n - first).CopyTo(destination[first..n]);
        _head = (_head + n) % _capacity;
        Count -= n;
        return n;
    }
}
