namespace Apps.Stack.Netif;

/// <summary>What a link can do for the stack besides carrying frames (see <see cref="INetworkInterface.Offloads"/>).</summary>
[Flags]
public enum LinkOffloads
{
    /// <summary>Plain frames only: every checksum is complete, every frame fits the MTU.</summary>
    None = 0,

    /// <summary>
    /// The link completes transport checksums the stack left partial (<see cref="FrameOffload.ChecksumStart"/>),
    /// and may deliver inbound frames whose checksum it vouches for (<see cref="FrameOffload.ChecksumTrusted"/>).
    /// </summary>
    Checksum = 1,

    /// <summary>
    /// The link cuts a TCP/IPv4 frame of up to 64 KiB into MTU-sized segments (TSO), or hands it to a peer that
    /// takes it whole, and may deliver such super-frames inbound (GRO/GSO). Implies <see cref="Checksum"/>.
    /// </summary>
    TcpSegmentation = 2,
}

/// <summary>
/// Offload facts that travel with one frame between a link and the stack: the neutral form of Linux's
/// <c>struct virtio_net_hdr</c>. The default value means a plain frame with complete checksums.
/// </summary>
public readonly record struct FrameOffload
{
    /// <summary>
    /// Inbound: the transport (TCP/UDP) checksum must not be verified: the local kernel left it partial
    /// (only the pseudo-header sum) or verified it already. Only a link whose peer is trusted to that
    /// extent (the host's own kernel) sets it; IP fragments are verified regardless.
    /// </summary>
    public bool ChecksumTrusted { get; init; }

    /// <summary>
    /// The transport header starts at this offset from the start of the frame and its checksum field (at
    /// <see cref="ChecksumOffset"/> from there) holds only the pseudo-header sum: outbound, the link is to
    /// complete it; inbound, the local kernel left it so. Zero: the checksum is complete.
    /// </summary>
    public ushort ChecksumStart { get; init; }

    /// <summary>Where the checksum field is, counted from <see cref="ChecksumStart"/> (16 for TCP, 6 for UDP).</summary>
    public ushort ChecksumOffset { get; init; }

    /// <summary>
    /// TCP payload bytes per segment of a super-frame: outbound, the link is to cut the frame into segments
    /// of this size (TSO); inbound, the kernel merged or never cut them (GSO/GRO). Zero: an ordinary frame.
    /// </summary>
    public ushort SegmentSize { get; init; }

    /// <summary>Outbound: Ethernet, IPv4 and TCP header bytes in front of the payload of a segmented frame.</summary>
    public ushort HeaderLength { get; init; }

    /// <summary>Whether the frame asks the link for anything (a partial checksum or segmentation).</summary>
    public bool NeedsLink => ChecksumStart != 0 || SegmentSize != 0;
}
