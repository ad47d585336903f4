namespace Apps.Stack.Tcp;

/// <summary>
/// Event counts shared by every TCP core of one stack. Plain fields, written only from the stack's
/// event loop; the shell publishes them as <c>Apps.Stack</c> meter instruments.
/// </summary>
public sealed class TcpCounters
{
    public long SegmentsReceived;
    public long SegmentsSent;
    public long Retransmissions;
    public long FastRetransmits;
    public long RetransmissionTimeouts;
    /// <summary>RFC 8985 tail loss probes sent.</summary>
    public long TailLossProbes;
    public long ResetsSent;
    public long ResetsReceived;
    /// <summary>RFC 5961 challenge ACKs sent (RST or SYN in window, old ACK).</summary>
    public long ChallengeAcks;
    /// <summary>RFC 5961 challenge ACKs suppressed by the rate limit.</summary>
    public long ChallengeAcksSuppressed;
    /// <summary>RSTs ignored because their sequence number was outside the window (blind reset attempts).</summary>
    public long OutOfWindowResets;
    /// <summary>Segments failing the RFC 9293 §3.10.7.4 acceptability test.</summary>
    public long OutOfWindowSegments;
    /// <summary>Segments rejected by PAWS (RFC 7323 §5).</summary>
    public long PawsRejected;
    /// <summary>ACKs for data never sent, or far too old (RFC 5961 §5).</summary>
    public long InvalidAcks;
    /// <summary>Segments whose header failed to parse (malformed options, bad offset, truncated).</summary>
    public long Malformed;
    public long BadChecksum;
    /// <summary>Out-of-order segments dropped because the reassembly range limit was hit.</summary>
    public long ReassemblyDrops;
    /// <summary>SYNs dropped because the accept queue was full.</summary>
    public long ListenOverflows;
    /// <summary>Half-open connections evicted to admit a new SYN (SYN-flood protection without cookies).</summary>
    public long SynQueueEvictions;
    /// <summary>SYN-ACKs sent with a SYN cookie because the SYN queue was full.</summary>
    public long SynCookiesSent;
    /// <summary>Connections established from a valid SYN cookie.</summary>
    public long SynCookiesAccepted;
    public long ConnectionsOpened;
    public long ConnectionsAccepted;
    public long ConnectionsTimedOut;
    /// <summary>Stateless replies (RSTs to closed ports, cookie SYN-ACKs) dropped because their queue was full.</summary>
    public long ResetsSuppressed;
}
