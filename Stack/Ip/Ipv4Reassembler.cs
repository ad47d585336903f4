namespace Apps.Stack.Ip;

using Apps.Stack.Wire;

/// <summary>
/// IPv4 fragment reassembly (RFC 791 §3.2 "fragmentation and reassembly", RFC 815 hole bookkeeping).
/// Read this first: memory is bounded by <see cref="MaxDatagrams"/> × <see cref="MaxDatagramLength"/>;
/// any partial overlap drops the whole datagram (RFC 5722's IPv6 rule, applied to IPv4 against
/// overlap-based evasion, RFC 1858 §4); an exact duplicate fragment is ignored (links do duplicate);
/// a non-final fragment carrying fewer than <see cref="MinFragmentPayload"/> bytes is refused (RFC 1858 §3).
/// </summary>
internal sealed class Ipv4Reassembler
{
    /// <summary>Datagrams reassembled at once; a new one beyond this evicts the oldest (as Linux does).</summary>
    public const int MaxDatagrams = 64;

    /// <summary>Largest reassembled payload (the 16-bit total length minus a minimal header).</summary>
    public const int MaxDatagramLength = Ipv4Header.MaxTotalLength - Ipv4Header.MinLength;

    /// <summary>Smallest payload a non-final fragment may carry: what the minimum IPv4 MTU of 68 leaves (RFC 791).</summary>
    public const int MinFragmentPayload = 48;

    /// <summary>Maximum fragments per datagram (with the 48-byte minimum, 1400 covers the whole range).</summary>
    public const int MaxFragments = 1400;

    /// <summary>Reassembly time-out (RFC 1122 §3.3.2 recommends 60 to 120 s; Linux uses 30 s).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly record struct Key(Ipv4Address Source, Ipv4Address Destination, ushort Identification, byte Protocol);

    private sealed class Datagram
    {
        public required TimeSpan Deadline;
        public byte[] Buffer = new byte[2048];
        public readonly List<(int Start, int End)> Ranges = [];
        public int TotalLength = -1;
        public Ipv4Header FirstHeader;
        public byte[]? Quote; // first fragment's header + 8 data bytes, for ICMP time exceeded
    }

    private readonly Dictionary<Key, Datagram> _datagrams = [];
    private TimeSpan _earliest = TimeSpan.MaxValue; // lower bound of the deadlines, exact after Poll

    /// <summary>Datagrams evicted to make room (each is one <see cref="DropReason.ReassemblyLimit"/>).</summary>
    public long Evicted { get; private set; }

    /// <summary>Datagrams currently being reassembled.</summary>
    public int InProgress => _datagrams.Count;

    /// <summary>
    /// Adds a fragment. Returns <see cref="DropReason.None"/> with <paramref name="complete"/> set to the whole
    /// payload (valid until the next call) once every byte has arrived; <see cref="DropReason.None"/> with an empty
    /// <paramref name="complete"/> while waiting; otherwise why the fragment (and maybe its datagram) was dropped.
    /// </summary>
    /// <remarks><paramref name="rawHeader"/> is the fragment's header as received, kept from the first fragment for the ICMP quote.</remarks>
    public DropReason Add(in Ipv4Header header, ReadOnlySpan<byte> rawHeader, ReadOnlySpan<byte> payload, TimeSpan now, out Ipv4Header completeHeader, out ReadOnlyMemory<byte> complete)
    {
        complete = default;
        completeHeader = default;
        int start = header.FragmentOffset;
        int end = start + payload.Length;
        if (header.MoreFragments && payload.Length < MinFragmentPayload)
            return DropReason.TinyFragment;
        if (header.MoreFragments && payload.Length % 8 != 0)
            return DropReason.Malformed;
        if (end > MaxDatagramLength)
            return DropReason.ReassemblyLimit;

        var key = new Key(header.Source, header.Destination, header.Identification, header.Protocol);
        if (!_datagrams.TryGetValue(key, out var d))
        {
            if (_datagrams.Count >= MaxDatagrams)
                EvictOldest();
            d = new Datagram { Deadline = now + Timeout };
            _datagrams[key] = d;
            if (d.Deadline < _earliest)
                _earliest = d.Deadline;
        }

        foreach (var (s, e) in d.Ranges)
        {
            if (s == start && e == end)
                return DropReason.None;          // exact duplicate: harmless
            if (start < e && s < end)
            {
                _datagrams.Remove(key);
                return DropReason.OverlappingFragment;
            }
        }
        if (!header.MoreFragments)
        {
            if (d.TotalLength >= 0 || end < MaxEnd(d))
            {
                _datagrams.Remove(key);
                return DropReason.Malformed;     // two last fragments, or data beyond the end
            }
            d.TotalLength = end;
        }
        else if (d.TotalLength >= 0 && end > d.TotalLength)
        {
            _datagrams.Remove(key);
            return DropReason.Malformed;
        }
        if (d.Ranges.Count >= MaxFragments)
        {
            _datagrams.Remove(key);
            return DropReason.ReassemblyLimit;
        }
        if (end > d.Buffer.Length)
            Array.Resize(ref d.Buffer, Math.Min(MaxDatagramLength, Math.Max(end, d.Buffer.Length * 2)));
        payload.CopyTo(d.Buffer.AsSpan(start));
        d.Ranges.Add((start, end));
        if (start == 0)
        {
            d.FirstHeader = header;
            int quoted = Math.Min(8, payload.Length);
            d.Quote = new byte[rawHeader.Length + quoted];
            rawHeader.CopyTo(d.Quote);
            payload[..quoted].CopyTo(d.Quote.AsSpan(rawHeader.Length));
        }

        if (d.TotalLength < 0 || Covered(d) != d.TotalLength)
            return DropReason.None;
        _datagrams.Remove(key);
        completeHeader = d.FirstHeader with
        {
            MoreFragments = false,
            FragmentOffset = 0,
            TotalLength = (ushort)Math.Min(Ipv4Header.MaxTotalLength, d.TotalLength + d.FirstHeader.HeaderLength),
        };
        complete = d.Buffer.AsMemory(0, d.TotalLength);
        return DropReason.None;
    }

    /// <summary>
    /// Discards datagrams whose time ran out; returns how many. <paramref name="expiredWithFirstFragment"/>
    /// gets the quote (header and 8 data bytes) of each one whose first fragment had arrived, for the
    /// ICMP time exceeded that RFC 1122 §3.3.2 asks for.
    /// </summary>
    public int Poll(TimeSpan now, Action<byte[]>? expiredWithFirstFragment = null)
    {
        List<Key>? expired = null;
        _earliest = TimeSpan.MaxValue;
        foreach (var (key, d) in _datagrams)
        {
            if (d.Deadline <= now)
                (expired ??= []).Add(key);
            else if (d.Deadline < _earliest)
                _earliest = d.Deadline;
        }
        if (expired is null)
            return 0;
        foreach (var key in expired)
        {
            if (_datagrams.Remove(key, out var d) && d.Quote is { } quote)
                expiredWithFirstFragment?.Invoke(quote);
        }
        return expired.Count;
    }

    /// <summary>When <see cref="Poll"/> may have work (never later than the earliest time-out), or <see cref="TimeSpan.MaxValue"/>.</summary>
    public TimeSpan NextDeadline() => _datagrams.Count == 0 ? TimeSpan.MaxValue : _earliest;

    private void EvictOldest()
    {
        Key oldest = default;
        var deadline = TimeSpan.MaxValue;
        foreach (var (key, d) in _datagrams)
            if (d.Deadline < deadline)
                (oldest, deadline) = (key, d.Deadline);
        _datagrams.Remove(oldest);
        Evicted++;
    }

    private static int MaxEnd(Datagram d)
    {
        int max = 0;
        foreach (var (_, e) in d.Ranges)
            max = Math.Max(max, e);
        return max;
    }

    // Ranges never overlap (checked on insert), so the covered length is their sum.
    private static int Covered(Datagram d)
    {
        int sum = 0;
        foreach (var (s, e) in d.Ranges)
            sum += e - s;
        return sum;
    }
}
