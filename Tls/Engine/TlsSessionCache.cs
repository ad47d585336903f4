using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>
/// A bounded, least-recently-used cache of resumable TLS 1.2 sessions: RFC 5246 §7.4.1.2 session IDs and,
/// on clients, RFC 5077 session tickets. Keyed by server name on clients and by session ID on servers.
/// Safe to share between connections.
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

    /// <summary>Longest ticket a client keeps (RFC 5077 allows 2^16 - 1 bytes; real ones are a few hundred).</summary>
    internal const int MaxTicketLength = 4096;

    /// <param name="key">Server name (client) or hex session ID (server).</param>
    /// <param name="session">The resumable session.</param>
    /// <param name="now">The caller's current time.</param>
    /// <param name="ticket">The server's ticket for this session (RFC 5077 §3.3), clients only.</param>
    /// <param name="lifetime">How long it may be resumed, if the peer said less than <see cref="Lifetime"/>.</param>
    internal void Store(string key, TlsSession session, DateTimeOffset now, byte[]? ticket = null, TimeSpan? lifetime = null)
    {
        if (ticket is { Length: > MaxTicketLength })
        {
            return;
        }

        var expires = now + (lifetime is { } limit && limit < Lifetime ? limit : Lifetime);
        lock (_gate)
        {
            Remove(key);
            _index[key] = _order.AddFirst(new Entry(key, session, expires, ticket));
            while (_index.Count > Capacity)
            {
                Remove(_order.Last!.Value.Key);
            }
        }
    }

    internal TlsSession? Find(string key, DateTimeOffset now) => FindEntry(key, now)?.Session;

    /// <summary>The live session stored under <paramref name="key"/> and its ticket, if it has one.</summary>
    internal (TlsSession Session, byte[]? Ticket)? FindEntry(string key, DateTimeOffset now)
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
            return (node.Value.Session, node.Value.Ticket);
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

    private sealed record Entry(string Key, TlsSession Session, DateTimeOffset Expires, byte[]? Ticket);
}
