using System.Buffers.Binary;

namespace Apps.Stack.Wire;

/// <summary>ICMPv4 message types used here (RFC 792).</summary>
public enum IcmpV4Type : byte
{
    /// <summary>Echo reply.</summary>
    EchoReply = 0,
    /// <summary>Destination unreachable; the code says why.</summary>
    DestinationUnreachable = 3,
    /// <summary>Echo request.</summary>
    EchoRequest = 8,
    /// <summary>Time exceeded (TTL or reassembly).</summary>
    TimeExceeded = 11,
}

/// <summary>Destination-unreachable codes (RFC 792, RFC 1191).</summary>
public static class IcmpV4UnreachableCode
{
    /// <summary>Net unreachable.</summary>
    public const byte Network = 0;
    /// <summary>Host unreachable.</summary>
    public const byte Host = 1;
    /// <summary>Protocol unreachable.</summary>
    public const byte Protocol = 2;
    /// <summary>Port unreachable.</summary>
    public const byte Port = 3;
    /// <summary>Fragmentation needed and DF set (RFC 1191 puts the next-hop MTU in the low 16 bits).</summary>
    public const byte FragmentationNeeded = 4;
}

/// <summary>
/// The fixed 8-byte ICMPv4 header (RFC 792): type, code, checksum and the 32-bit "rest of header"
/// (identifier and sequence for echo, unused or next-hop MTU for errors). The checksum covers the
/// whole ICMP message, header and data.
/// </summary>
public readonly record struct IcmpV4Header(IcmpV4Type Type, byte Code, uint RestOfHeader)
{
    /// <summary>Header length in bytes.</summary>
    public const int Length = 8;

    /// <summary>Echo identifier (high 16 bits of the rest of header).</summary>
    public ushort Identifier => (ushort)(RestOfHeader >> 16);

    /// <summary>Echo sequence number (low 16 bits of the rest of header).</summary>
    public ushort SequenceNumber => (ushort)RestOfHeader;

    /// <summary>Builds an echo request or reply header.</summary>
    public static IcmpV4Header Echo(IcmpV4Type type, ushort identifier, ushort sequence) =>
        new(type, 0, (uint)identifier << 16 | sequence);

    /// <summary>Parses the header of a whole ICMP message and verifies the checksum over all of it.</summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out IcmpV4Header header, out DropReason reason)
    {
        header = default;
        if (message.Length < Length)
        {
            reason = DropReason.Truncated;
            return false;
        }
        if (InternetChecksum.Compute(message) != 0)
        {
            reason = DropReason.BadChecksum;
            return false;
        }
        header = new IcmpV4Header((IcmpV4Type)message[0], message[1], BinaryPrimitives.ReadUInt32BigEndian(message[4..]));
        reason = DropReason.None;
        return true;
    }

    /// <summary>
    /// Writes the header at the start of <paramref name="message"/>, whose remainder must already hold the
    /// data, and sets the checksum over the whole message.
    /// </summary>
    public void Emit(Span<byte> message)
    {
        message[0] = (byte)Type;
        message[1] = Code;
        message[2] = 0;
        message[3] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(message[4..], RestOfHeader);
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], InternetChecksum.Compute(message));
    }
}
