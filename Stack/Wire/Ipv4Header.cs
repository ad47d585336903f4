using System.Buffers.Binary;

namespace Apps.Stack.Wire;

/// <summary>IP protocol numbers this stack handles (IANA "Assigned Internet Protocol Numbers").</summary>
public static class IpProtocol
{
    /// <summary>ICMPv4, RFC 792.</summary>
    public const byte Icmp = 1;
    /// <summary>TCP, RFC 9293.</summary>
    public const byte Tcp = 6;
    /// <summary>UDP, RFC 768.</summary>
    public const byte Udp = 17;
}

/// <summary>
/// An IPv4 header (RFC 791 §3.1). Options are accepted on input and skipped (their bytes lie inside
/// <see cref="HeaderLength"/>, which is bounds-checked); emitted headers never carry options.
/// </summary>
/// <remarks>
/// Rule for this file and every Wire/ type: lengths are checked on untrusted input in TryParse; Emit writes
/// into a buffer the caller sized with the constants here and does not check again.
/// </remarks>
public readonly record struct Ipv4Header(
    byte TypeOfService,
    ushort TotalLength,
    ushort Identification,
    bool DontFragment,
    bool MoreFragments,
    int FragmentOffset,
    byte TimeToLive,
    byte Protocol,
    Ipv4Address Source,
    Ipv4Address Destination,
    int HeaderLength = Ipv4Header.MinLength)
{
    /// <summary>Header length without options.</summary>
    public const int MinLength = 20;

    /// <summary>Largest total length the 16-bit field can express.</summary>
    public const int MaxTotalLength = 65535;

    /// <summary>Payload length (total length minus header length).</summary>
    public int PayloadLength => TotalLength - HeaderLength;

    /// <summary>True for any fragment of a fragmented datagram (MF set or a non-zero offset).</summary>
    public bool IsFragment => MoreFragments || FragmentOffset != 0;

    /// <summary>
    /// Parses and validates a header: version 4, 5 ≤ IHL, IHL·4 ≤ total length ≤ bytes given, and a
    /// header checksum that verifies (RFC 791 §3.1; RFC 1122 §3.2.1.2 says to drop on a bad checksum).
    /// Bytes after total length (Ethernet padding) are ignored.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out Ipv4Header header, out DropReason reason)
    {
        header = default;
        if (packet.Length < MinLength)
        {
            reason = DropReason.Truncated;
            return false;
        }
        int version = packet[0] >> 4;
        int headerLength = (packet[0] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (version != 4 || headerLength < MinLength || totalLength < headerLength)
        {
            reason = DropReason.Malformed;
            return false;
        }
        if (packet.Length < headerLength || packet.Length < totalLength)
        {
            reason = DropReason.Truncated;
            return false;
        }
        if (InternetChecksum.Compute(packet[..headerLength]) != 0)
        {
            reason = DropReason.BadChecksum;
            return false;
        }
        ushort flagsAndOffset = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]);
        if ((flagsAndOffset & 0x8000) != 0)
        {
            // RFC 791: the first flag bit is reserved and must be zero.
            reason = DropReason.Malformed;
            return false;
        }
        header = new Ipv4Header(
            packet[1],
            (ushort)totalLength,
            BinaryPrimitives.ReadUInt16BigEndian(packet[4..]),
            (flagsAndOffset & 0x4000) != 0,
            (flagsAndOffset & 0x2000) != 0,
            (flagsAndOffset & 0x1FFF) * 8,
            packet[8],
            packet[9],
            Ipv4Address.Read(packet[12..]),
            Ipv4Address.Read(packet[16..]),
            headerLength);
        reason = DropReason.None;
        return true;
    }

    /// <summary>
    /// Writes a 20-byte header (no options, whatever <see cref="HeaderLength"/> says) with its checksum.
    /// <see cref="TotalLength"/> must already count the payload.
    /// </summary>
    public void Emit(Span<byte> packet)
    {
        packet[0] = 0x45;
        packet[1] = TypeOfService;
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], TotalLength);
        BinaryPrimitives.WriteUInt16BigEndian(packet[4..], Identification);
        int flags = (DontFragment ? 0x4000 : 0) | (MoreFragments ? 0x2000 : 0);
        BinaryPrimitives.WriteUInt16BigEndian(packet[6..], (ushort)(flags | (FragmentOffset / 8)));
        packet[8] = TimeToLive;
        packet[9] = Protocol;
        packet[10] = 0;
        packet[11] = 0;
        Source.Write(packet[12..]);
        Destination.Write(packet[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(packet[10..], InternetChecksum.Compute(packet[..MinLength]));
    }
}
