namespace Apps.Stack;

/// <summary>
/// Why the stack discarded an inbound packet. Every drop is counted under one of these reasons
/// (metric <c>apps.stack.drops</c>, tag <c>reason</c>), so hostile or broken traffic is visible.
/// </summary>
public enum DropReason
{
    /// <summary>Not dropped.</summary>
    None,
    /// <summary>Shorter than its header or than the length its header claims.</summary>
    Truncated,
    /// <summary>A header field holds a value the format forbids (version, header length, sizes).</summary>
    Malformed,
    /// <summary>The Internet checksum does not verify.</summary>
    BadChecksum,
    /// <summary>An EtherType, IP protocol, ARP operation or ICMP type this stack does not handle.</summary>
    Unsupported,
    /// <summary>Addressed to another host (MAC or IP).</summary>
    NotForUs,
    /// <summary>A fragment overlapping data already received (RFC 5722 policy, applied to IPv4).</summary>
    OverlappingFragment,
    /// <summary>A fragment too small to be legitimate (RFC 1858 §3).</summary>
    TinyFragment,
    /// <summary>Reassembly gave up: time-out, too many datagrams in progress, or datagram too large.</summary>
    ReassemblyLimit,
    /// <summary>No socket is bound to the destination UDP port.</summary>
    NoListener,
    /// <summary>A queue (ARP pending, socket receive) was full.</summary>
    QueueFull,
    /// <summary>ARP could not resolve the next hop in time.</summary>
    Unresolved,
    /// <summary>No route to the destination (no address configured, no gateway).</summary>
    NoRoute,
    /// <summary>The destination is larger than the link can carry and fragmentation is not allowed.</summary>
    TooBig,
}
