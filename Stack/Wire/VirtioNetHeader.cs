using System.Buffers.Binary;

namespace Apps.Stack.Wire;

/// <summary>
/// The <c>struct virtio_net_hdr</c> a Linux TAP device opened with IFF_VNET_HDR puts before every frame
/// it reads or writes (virtio 1.x §5.1.6 "Device Operation"; linux/virtio_net.h): checksum and
/// segmentation offload instructions. Little-endian fields (the legacy layout on a little-endian host,
/// and what TUNSETVNETLE asks for).
/// </summary>
/// <remarks>
/// Read this first. Layout: flags (u8), gso_type (u8), hdr_len, gso_size, csum_start, csum_offset (u16
/// each), 10 bytes. NEEDS_CSUM: the transport checksum at <c>csum_start + csum_offset</c> holds only the
/// pseudo-header sum and must be completed over <c>[csum_start, end)</c>. DATA_VALID: the checksum was
/// verified. A GSO type other than NONE: the frame is a super-frame of up to 64 KiB whose TCP payload is
/// cut into <c>gso_size</c> pieces, each behind a copy of the headers (<c>hdr_len</c> is only a hint:
/// Linux reports the linear part of its buffer there).
/// </remarks>
public readonly record struct VirtioNetHeader(byte Flags, byte GsoType, ushort HeaderLength, ushort GsoSize, ushort ChecksumStart, ushort ChecksumOffset)
{
    /// <summary>Size of the header (the TUNSETVNETHDRSZ default).</summary>
    public const int Length = 10;

    /// <summary>VIRTIO_NET_HDR_F_NEEDS_CSUM: complete the checksum from csum_start, store at csum_offset.</summary>
    public const byte FlagNeedsChecksum = 1;

    /// <summary>VIRTIO_NET_HDR_F_DATA_VALID: the checksum was verified by the sender's side.</summary>
    public const byte FlagDataValid = 2;

    /// <summary>VIRTIO_NET_HDR_GSO_NONE.</summary>
    public const byte GsoNone = 0;

    /// <summary>VIRTIO_NET_HDR_GSO_TCPV4: an IPv4 TCP super-frame (TSO).</summary>
    public const byte GsoTcpV4 = 1;

    /// <summary>Largest frame after the header: an Ethernet header and a 65535-byte IPv4 packet.</summary>
    public const int MaxFrameLength = EthernetHeader.Length + Ipv4Header.MaxTotalLength;

    /// <summary>Offset of the checksum inside a TCP header.</summary>
    public const ushort TcpChecksumOffset = 16;

    /// <summary>Whether the transport checksum holds only the pseudo-header sum.</summary>
    public bool NeedsChecksum => (Flags & FlagNeedsChecksum) != 0;

    /// <summary>Whether the frame's transport checksum need not be verified.</summary>
    public bool ChecksumTrusted => (Flags & (FlagNeedsChecksum | FlagDataValid)) != 0;

    /// <summary>Whether this is a segmentation-offload super-frame.</summary>
    public bool IsSegmented => GsoType != GsoNone;

    /// <summary>
    /// Parses the header in front of a frame read from the device and checks it against the frame that
    /// follows. Accepts only what we negotiated with TUNSETOFFLOAD (checksum offload and TCPv4
    /// segmentation, no ECN), checksum positions inside the frame, and frames up to
    /// <see cref="MaxFrameLength"/>. Returns false with <paramref name="error"/> saying what is wrong.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> input, out VirtioNetHeader header, out VirtioNetHeaderError error)
    {
        header = default;
        if (input.Length < Length)
        {
            error = VirtioNetHeaderError.Truncated;
            return false;
        }
        header = new VirtioNetHeader(input[0], input[1],
            BinaryPrimitives.ReadUInt16LittleEndian(input[2..]), BinaryPrimitives.ReadUInt16LittleEndian(input[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(input[6..]), BinaryPrimitives.ReadUInt16LittleEndian(input[8..]));
        int frame = input.Length - Length;
        error = header.Validate(frame);
        return error == VirtioNetHeaderError.None;
    }

    private VirtioNetHeaderError Validate(int frameLength)
    {
        if (frameLength > MaxFrameLength)
            return VirtioNetHeaderError.FrameTooLong;
        if (frameLength < EthernetHeader.Length)
            return VirtioNetHeaderError.Truncated;
        if ((Flags & ~(FlagNeedsChecksum | FlagDataValid)) != 0)
            return VirtioNetHeaderError.UnknownFlags;
        if (GsoType is not (GsoNone or GsoTcpV4))
            return VirtioNetHeaderError.UnknownGsoType;
        if (HeaderLength > frameLength)
            return VirtioNetHeaderError.BadHeaderLength;
        if (NeedsChecksum && (ChecksumStart < EthernetHeader.Length || ChecksumStart + ChecksumOffset + 2 > frameLength))
            return VirtioNetHeaderError.BadChecksumPosition;
        if (IsSegmented && (GsoSize == 0 || !NeedsChecksum))
            return VirtioNetHeaderError.BadSegmentation;
        return VirtioNetHeaderError.None;
    }

    /// <summary>Writes the header into the first <see cref="Length"/> bytes of <paramref name="destination"/>.</summary>
    public void Emit(Span<byte> destination)
    {
        destination[0] = Flags;
        destination[1] = GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], GsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], ChecksumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], ChecksumOffset);
    }
}

/// <summary>Why a <see cref="VirtioNetHeader"/> from the device was refused (the frame is dropped and counted).</summary>
public enum VirtioNetHeaderError
{
    /// <summary>Valid.</summary>
    None,
    /// <summary>Shorter than the header plus an Ethernet header.</summary>
    Truncated,
    /// <summary>The frame after the header is longer than an Ethernet header plus a 64 KiB IPv4 packet.</summary>
    FrameTooLong,
    /// <summary>Flag bits other than NEEDS_CSUM and DATA_VALID.</summary>
    UnknownFlags,
    /// <summary>A GSO type we did not accept with TUNSETOFFLOAD (UDP, TCPv6, ECN...).</summary>
    UnknownGsoType,
    /// <summary>hdr_len runs past the end of the frame.</summary>
    BadHeaderLength,
    /// <summary>csum_start/csum_offset point outside the frame or into the Ethernet header.</summary>
    BadChecksumPosition,
    /// <summary>A GSO frame without a segment size or without a partial checksum.</summary>
    BadSegmentation,
}
