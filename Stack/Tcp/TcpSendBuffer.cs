namespace Apps.Stack.Tcp;

/// <summary>
/// Bounded ring of bytes written by the application and not yet acknowledged. Offset 0 is
/// SND.UNA (the oldest unacknowledged byte).
/// </summary>
internal sealed class TcpSendBuffer
{
    private readonly byte[] _ring;
    private int _head;

    public TcpSendBuffer(int capacity) => _ring = new byte[capacity];

    public int Count { get; private set; }
    public int Capacity => _ring.Length;
    public int Free => _ring.Length - Count;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns the bytes taken.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Free);
        int tail = (_head + Count) % _ring.Length;
        int first = Math.Min(n, _ring.Length - tail);
        data[..first].CopyTo(_ring.AsSpan(tail));
        data[first..n].CopyTo(_ring);
        Count += n;
        return n;
    }

    /// <summary>Copies <paramref name="destination"/>.Length bytes starting <paramref name="offset"/> bytes after SND.UNA.</summary>
    public void Peek(int offset, Span<byte> destination)
    {
        int start = (_head + offset) % _ring.Length;
        int first = Math.Min(destination.Length, _ring.Length - start);
        _ring.AsSpan(start, first).CopyTo(destination);
        _ring.AsSpan(0, destination.Length - first).CopyTo(destination[first..]);
    }

    /// <summary>Releases <paramref name="count"/> acknowledged bytes.</summary>
    public void Consume(int count)
    {
        _head = (_head + count) % _ring.Length;
        Count -= count;
    }
}
