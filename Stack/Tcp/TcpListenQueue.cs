namespace Apps.Stack.Tcp;

/// <summary>
/// A listening port (RFC 9293 LISTEN): a bounded queue of half-open connections (SYN queue) and a
/// bounded queue of established connections awaiting <see cref="TryAccept"/> (the backlog).
/// </summary>
/// <remarks>
/// SYN-flood protection: when the SYN queue is full, the oldest half-open connection is evicted to
/// admit the new SYN, so spoofed SYNs cannot lock out real clients whose handshakes complete in
/// about one round trip; memory stays bounded by <see cref="SynQueueLimit"/>.
/// </remarks>
public sealed class TcpListenQueue
{
    private readonly List<TcpControlBlock> _halfOpen = [];
    private readonly Queue<TcpControlBlock> _ready = new();

    internal TcpListenQueue(ushort port, int backlog, int synQueueLimit)
    {
        Port = port;
        Backlog = backlog;
        SynQueueLimit = synQueueLimit;
    }

    public ushort Port { get; }
    public int Backlog { get; }
    public int SynQueueLimit { get; }
    public int HalfOpenCount => _halfOpen.Count;
    public int ReadyCount => _ready.Count;

    /// <summary>Takes the next established connection, or null when none is waiting.</summary>
    public TcpControlBlock? TryAccept() => _ready.TryDequeue(out var tcb) ? tcb : null;

    internal bool BacklogFull => _ready.Count >= Backlog;

    internal bool SynQueueFull => _halfOpen.Count >= SynQueueLimit;

    internal void AddHalfOpen(TcpControlBlock tcb) => _halfOpen.Add(tcb);

    /// <summary>A connection established without a half-open stage (from a SYN cookie).</summary>
    internal void AddReady(TcpControlBlock tcb) => _ready.Enqueue(tcb);

    /// <summary>Removes and returns the oldest half-open connection when the SYN queue is full.</summary>
    internal TcpControlBlock? EvictIfFull()
    {
        if (_halfOpen.Count < SynQueueLimit) return null;
        var oldest = _halfOpen[0];
        _halfOpen.RemoveAt(0);
        return oldest;
    }

    /// <summary>Moves half-open connections that completed (or died) out of the SYN queue.</summary>
    internal void Promote()
    {
        for (int i = 0; i < _halfOpen.Count; i++)
        {
            var tcb = _halfOpen[i];
            if (tcb.State == TcpState.SynReceived) continue;
            _halfOpen.RemoveAt(i--);
            if (tcb.State != TcpState.Closed) _ready.Enqueue(tcb);
        }
    }
}
