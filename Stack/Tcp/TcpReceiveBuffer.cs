namespace Apps.Stack.Tcp;

/// <summary>
/// Bounded ring holding in-order bytes ready for the application (the first <see cref="Count"/>)
/// followed by space where out-of-order bytes are written at their offset from RCV.NXT.
/// </summary>
internal sealed class TcpReceiveBuffer
{
    private readonly byte[] _ring;
    private int _head;

    public TcpReceiveBuffer(int capacity) => _ring = new byte[capacity];

    /// <summary>In-order bytes the application can read.</summary>
    public int Count { get; private set; }
    public int Capacity => _ring.Length;
    public int Free => _ring.Length - Count;

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> bytes past the readable bytes; the caller keeps offset + length within <see cref="Free"/>.</summary>
    public void WriteAt(int offset, ReadOnlySpan<byte> data)
    {
        int start = (_head + Count + offset) % _ring.Length;
        int first = Math.Min(data.Length, _ring.Length - start);
        data[..first].CopyTo(_ring.AsSpan(start));
        data[first..].CopyTo(_ring);
    }

    /// <summary>Makes <paramref name="count"/> bytes already written at offset 0 readable.</summary>
    public void Commit(int count) => Count += count;

    /// <summary>Moves up to <paramref name="destination"/>.Length readable bytes out; returns how many.</summary>
    public int Read(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, Count);
        int first = Math.Min(n, _ring.Length - _head);
        _ring.AsSpan(_head, first).CopyTo(destination);
        _ring.AsSpan(0, n - first).CopyTo(destination[first..n]);
        _head = (_head + n) % _ring.Length;
        Count -= n;
        return n;
    }
}
