using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

/// <summary>
/// Sender-side record of what the peer reported via SACK (RFC 2018 §5), kept as sorted disjoint
/// ranges above SND.UNA, bounded in count. Used to skip data the peer already holds when
/// retransmitting. Cleared after a retransmission timeout (RFC 2018 §8: the receiver may renege).
/// </summary>
internal sealed class TcpSackScoreboard
{
    private readonly TcpSeqNumber[] _lefts;
    private readonly TcpSeqNumber[] _rights;

    public TcpSackScoreboard(int maxRanges)
    {
        _lefts = new TcpSeqNumber[maxRanges];
        _rights = new TcpSeqNumber[maxRanges];
    }

    public int Count { get; private set; }

    /// <summary>Highest sequence number reported received, or <paramref name="fallback"/> when empty.</summary>
    public TcpSeqNumber HighestSacked(TcpSeqNumber fallback) => Count == 0 ? fallback : _rights[Count - 1];

    /// <summary>Adds a block already validated to lie within (SND.UNA, SND.MAX].</summary>
    public void Add(TcpSeqNumber left, TcpSeqNumber right)
    {
        if (right <= left) return;
        int first = 0;
        while (first < Count && _rights[first] < left) first++;
        int last = first;
        while (last < Count && _lefts[last] <= right) last++;
        int merged = last - first;
        if (merged == 0)
        {
            if (Count == _lefts.Length) return; // Full: forgetting a block only costs a spurious retransmission.
            Array.Copy(_lefts, first, _lefts, first + 1, Count - first);
            Array.Copy(_rights, first, _rights, first + 1, Count - first);
            _lefts[first] = left;
            _rights[first] = right;
            Count++;
            return;
        }
        _lefts[first] = TcpSeqNumber.Min(left, _lefts[first]);
        _rights[first] = TcpSeqNumber.Max(right, _rights[last - 1]);
        Array.Copy(_lefts, last, _lefts, first + 1, Count - last);
        Array.Copy(_rights, last, _rights, first + 1, Count - last);
        Count -= merged - 1;
    }

    /// <summary>Drops everything at or below the new SND.UNA.</summary>
    public void Acknowledge(TcpSeqNumber sndUna)
    {
        int w = 0;
        for (int i = 0; i < Count; i++)
        {
            if (_rights[i] <= sndUna) continue;
            _lefts[w] = TcpSeqNumber.Max(_lefts[i], sndUna);
            _rights[w] = _rights[i];
            w++;
        }
        Count = w;
    }

    /// <summary>True when <paramref name="seq"/> was SACKed; <paramref name="end"/> is where that block ends.</summary>
    public bool IsSacked(TcpSeqNumber seq, out TcpSeqNumber end)
    {
        for (int i = 0; i < Count; i++)
        {
            if (_lefts[i] <= seq && seq < _rights[i]) { end = _rights[i]; return true; }
        }
        end = seq;
        return false;
    }

    /// <summary>First SACKed sequence number after <paramref name="seq"/>, or <paramref name="limit"/>.</summary>
    public TcpSeqNumber NextSackedAfter(TcpSeqNumber seq, TcpSeqNumber limit)
    {
        for (int i = 0; i < Count; i++) if (_lefts[i] > seq) return TcpSeqNumber.Min(_lefts[i], limit);
        return limit;
    }

    /// <summary>Total SACKed bytes.</summary>
    public int SackedBytes
    {
        get
        {
            int n = 0;
            for (int i = 0; i < Count; i++) n += _rights[i] - _lefts[i];
            return n;
        }
    }

    public void Clear() => Count = 0;
}
