namespace Apps.Stack.Arp;

using Apps.Stack.Wire;

/// <summary>
/// The ARP neighbour table (RFC 826, RFC 1122 §2.3.2.1-2): resolved entries that expire, unresolved
/// entries that re-send requests and hold a short queue of packets awaiting the answer. Sans-IO: the
/// caller passes <c>now</c> and gets back what to send and what to drop.
/// </summary>
/// <remarks>
/// Limits (hostile-input rule): at most <see cref="MaxEntries"/> entries (the oldest resolved entry is
/// evicted first; new unresolved entries are refused when the table is full of unresolved ones), and
/// at most <see cref="MaxPendingPackets"/> queued packets per unresolved entry (RFC 1122 §2.3.2.2
/// asks for at least one; extra ones replace nothing and are dropped).
/// </remarks>
internal sealed class ArpCache
{
    /// <summary>Table size limit.</summary>
    public const int MaxEntries = 512;

    /// <summary>Packets held per unresolved neighbour.</summary>
    public const int MaxPendingPackets = 64;

    /// <summary>How long a learned mapping is trusted.</summary>
    public static readonly TimeSpan EntryLifetime = TimeSpan.FromSeconds(60);

    /// <summary>Interval between requests for an unresolved neighbour.</summary>
    public static readonly TimeSpan RequestInterval = TimeSpan.FromSeconds(1);

    /// <summary>Requests sent before giving up and dropping the queue.</summary>
    public const int MaxRequests = 3;

    private sealed class Entry
    {
        public MacAddress Mac;
        public bool Resolved;
        public TimeSpan Deadline;        // expiry when resolved, next request when not
        public int RequestsSent;
        public List<byte[]>? Pending;
    }

    private readonly Dictionary<Ipv4Address, Entry> _entries = [];

    // A lower bound of every entry's deadline, so the per-packet deadline query is O(1); Poll
    // recomputes it exactly. Too early only costs a spurious Poll.
    private TimeSpan _earliest = TimeSpan.MaxValue;

    /// <summary>True while some packet waits for a neighbour to answer.</summary>
    public bool HasPending
    {
        get
        {
            foreach (var e in _entries.Values)
                if (e.Pending is { Count: > 0 })
                    return true;
            return false;
        }
    }

    /// <summary>Number of entries, resolved or not.</summary>
    public int Count => _entries.Count;

    /// <summary>Looks up a resolved, unexpired mapping.</summary>
    public bool TryLookup(Ipv4Address address, TimeSpan now, out MacAddress mac)
    {
        if (_entries.TryGetValue(address, out var e) && e.Resolved && e.Deadline > now)
        {
            mac = e.Mac;
            return true;
        }
        mac = default;
        return false;
    }

    /// <summary>
    /// Records <paramref name="address"/> at <paramref name="mac"/> (RFC 826 "merge" step) and returns
    /// the packets that were waiting for it, or null. When <paramref name="create"/> is false only an
    /// existing entry is updated (RFC 826: a host adds entries only for requests aimed at it).
    /// </summary>
    public List<byte[]>? Learn(Ipv4Address address, MacAddress mac, TimeSpan now, bool create)
    {
        if (!_entries.TryGetValue(address, out var e))
        {
            if (!create || !MakeRoom())
                return null;
            e = new Entry();
            _entries[address] = e;
        }
        var pending = e.Pending;
        e.Mac = mac;
        e.Resolved = true;
        e.Deadline = now + EntryLifetime;
        e.RequestsSent = 0;
        e.Pending = null;
        Lower(e.Deadline);
        return pending;
    }

    /// <summary>
    /// Queues <paramref name="packet"/> for an unresolved neighbour. Returns whether a request must be
    /// sent now (the entry is new); <paramref name="dropped"/> says the packet was refused by a limit.
    /// </summary>
    public bool Enqueue(Ipv4Address address, byte[] packet, TimeSpan now, out bool dropped)
    {
        dropped = false;
        if (!_entries.TryGetValue(address, out var e) || (e.Resolved && e.Deadline <= now))
        {
            if (e is null)
            {
                if (!MakeRoom())
                {
                    dropped = true;
                    return false;
                }
                e = new Entry();
                _entries[address] = e;
            }
            e.Resolved = false;
            e.RequestsSent = 1;
            e.Deadline = now + RequestInterval;
            e.Pending = [packet];
            Lower(e.Deadline);
            return true;
        }
        e.Pending ??= [];
        if (e.Pending.Count >= MaxPendingPackets)
        {
            dropped = true;
            return false;
        }
        e.Pending.Add(packet);
        return false;
    }

    /// <summary>
    /// Advances timers: calls <paramref name="sendRequest"/> for neighbours due another request, and
    /// <paramref name="dropPending"/> with the queue of neighbours that never answered.
    /// </summary>
    public void Poll(TimeSpan now, Action<Ipv4Address> sendRequest, Action<Ipv4Address, List<byte[]>> dropPending)
    {
        List<Ipv4Address>? remove = null;
        foreach (var (address, e) in _entries)
        {
            if (e.Deadline > now)
                continue;
            if (e.Resolved || e.RequestsSent >= MaxRequests)
            {
                (remove ??= []).Add(address);
                if (!e.Resolved && e.Pending is { Count: > 0 })
                    dropPending(address, e.Pending);
                continue;
            }
            e.RequestsSent++;
            e.Deadline = now + RequestInterval;
            sendRequest(address);
        }
        if (remove is not null)
            foreach (var a in remove)
                _entries.Remove(a);
        _earliest = TimeSpan.MaxValue;
        foreach (var e in _entries.Values)
            Lower(e.Deadline);
    }

    /// <summary>When <see cref="Poll"/> may have work (never later than the true earliest deadline), or <see cref="TimeSpan.MaxValue"/>.</summary>
    public TimeSpan NextDeadline() => _earliest;

    /// <summary>Forgets everything (address change).</summary>
    public void Clear()
    {
        _entries.Clear();
        _earliest = TimeSpan.MaxValue;
    }

    private void Lower(TimeSpan deadline)
    {
        if (deadline < _earliest)
            _earliest = deadline;
    }

    private bool MakeRoom()
    {
        if (_entries.Count < MaxEntries)
            return true;
        Ipv4Address victim = default;
        var oldest = TimeSpan.MaxValue;
        foreach (var (address, e) in _entries)
            if (e.Resolved && e.Deadline < oldest)
                (victim, oldest) = (address, e.Deadline);
        if (oldest == TimeSpan.MaxValue)
            return false;
        _entries.Remove(victim);
        return true;
    }
}
