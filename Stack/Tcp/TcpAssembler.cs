namespace Apps.Stack.Tcp;

/// <summary>
/// Tracks which byte ranges past RCV.NXT have arrived out of order (offsets relative to RCV.NXT),
/// with at most a fixed number of disjoint ranges so a hostile peer cannot grow it. Also remembers
/// the most recently touched range, which RFC 2018 §4 requires to be the first SACK block.
/// </summary>
internal sealed class TcpAssembler
{
    private readonly int[] _starts;
    private readonly int[] _ends;
    private int _latestStart = -1;

    public TcpAssembler(int maxRanges)
    {
        _starts = new int[maxRanges];
        _ends = new int[maxRanges];
    }

    public int RangeCount { get; private set; }
    public bool IsEmpty => RangeCount == 0;

    public (int Start, int End) this[int index] => (_starts[index], _ends[index]);

    /// <summary>Start of the range that most recently grew, or -1.</summary>
    public int LatestStart => _latestStart;

    /// <summary>Records [start, end). False (and nothing changes) when that would need one range too many.</summary>
    public bool Add(int start, int end)
    {
        if (end <= start) return true;
        // Find ranges overlapping or touching [start, end).
        int first = 0;
        while (first < RangeCount && _ends[first] < start) first++;
        int last = first;
        while (last < RangeCount && _starts[last] <= end) last++;
        int merged = last - first;
        if (merged == 0)
        {
            if (RangeCount == _starts.Length) return false;
            Array.Copy(_starts, first, _starts, first + 1, RangeCount - first);
            Array.Copy(_ends, first, _ends, first + 1, RangeCount - first);
            _starts[first] = start;
            _ends[first] = end;
            RangeCount++;
        }
        else
        {
            _starts[first] = Math.Min(start, _starts[first]);
            _ends[first] = Math.Max(end, _ends[last - 1]);
            int remove = merged - 1;
            Array.Copy(_starts, last, _starts, first + 1, RangeCount - last);
            Array.Copy(_ends, last, _ends, first + 1, RangeCount - last);
            RangeCount -= remove;
        }
        _latestStart = _starts[first];
        return true;
    }

    /// <summary>
    /// If a range starts at offset 0, removes it and returns its length; all remaining offsets are
    /// rebased so that the new offset 0 is the old end of that range.
    /// </summary>
    public int TakeFront()
    {
        if (RangeCount == 0 || _starts[0] != 0) return 0;
        int n = _ends[0];
        Array.Copy(_starts, 1, _starts, 0, RangeCount - 1);
        Array.Copy(_ends, 1, _ends, 0, RangeCount - 1);
        RangeCount--;
        Shift(n);
        return n;
    }

    /// <summary>Rebases offsets after RCV.NXT advanced by <paramref name="count"/> (drops what falls below 0).</summary>
    public void Shift(int count)
    {
        int w = 0;
        for (int i = 0; i < RangeCount; i++)
        {
            int s = _starts[i] - count, e = _ends[i] - count;
            if (e <= 0) continue;
            _starts[w] = Math.Max(s, 0);
            _ends[w] = e;
            w++;
        }
        RangeCount = w;
        if (_latestStart >= 0) _latestStart -= count;
        if (RangeCount == 0 || _latestStart < 0) _latestStart = RangeCount > 0 ? _starts[0] : -1;
    }

    public void Clear()
    {
        RangeCount = 0;
        _latestStart = -1;
    }
}
