using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>
/// A bounded, least-recently-used cache of resumable TLS 1.2 sessions (RFC 5246 §7.4.1.2 session IDs),
/// keyed by server name on clients and by session ID on servers. Safe to share between connections.
/// </summary>
public sealed class TlsSessionCache
{
    private readonly object _gate = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _index = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _order = new();

    /// <param name="capacity">Most sessions kept; the least recently used is dropped first.</param>
    /// <param name="lifetime">How long a session may be resumed after it was stored.</param>
    public TlsSessionCache(int capacity = 256, TimeSpan? lifetime = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        Lifetime = lifetime ?? TimeSpan.FromHours(2);
    }

    public int Capacity { get; }

    public TimeSpan Lifetime { get; }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _index.Count;
            }
        }
    }

    internal void Store(string key, TlsSession session, DateTimeOffset now)
    {
        lock (_gate)
        {
            Remove(key);
            _index[key] = _order.AddFirst(new Entry(key, session, now + Lifetime));
            while (_index.Count > Capacity)
            {
                Remove(_order.Last!.Value.Key);
            }
        }
    }

    internal TlsSession? Find(string key, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_index.TryGetValue(key, out var node))
            {
                return null;
            }

            if (node.Value.Expires <= now || !node.Value.Session.IsResumable)
            {
                Remove(key);
                return null;
            }

            _order.Remove(node);
            _order.AddFirst(node);
            return node.Value.Session;
        }
    }

    internal void Remove(string key)
    {
        lock (_gate)
        {
            if (_index.Remove(key, out var node))
            {
                _order.Remove(node);
            }
        }
    }

    private sealed record Entry(string Key, TlsSession Session, DateTimeOffset Expires);
}
