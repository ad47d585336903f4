using System.Buffers.Binary;

namespace Apps.Stack.Wire;

/// <summary>EtherType values this stack speaks (IEEE 802.3 / IANA registry).</summary>
public enum EtherType : ushort
{
    /// <summary>IPv4, RFC 894.</summary>
    Ipv4 = 0x0800,
    /// <summary>ARP, RFC 826.</summary>
    Arp = 0x0806,
}

/// <summary>
/// An Ethernet II header (RFC 894): destination, source, EtherType. No 802.1Q tags: a frame whose
/// type field is a length (&lt; 0x600) or a VLAN tag is reported as unsupported by the caller.
/// </summary>
public readonly record struct EthernetHeader(MacAddress Destination, MacAddress Source, ushort EtherType)
{
    /// <summary>Header length in bytes.</summary>
    public const int Length = 14;

    /// <summary>Parses the header; the payload is everything after it (it may include link padding).</summary>
    /// <returns>False when the frame is shorter than a header.</returns>
    public static bool TryParse(ReadOnlySpan<byte> frame, out EthernetHeader header)
    {
        if (frame.Length < Length)
        {
            header = default;
            return false;
        }
        header = new EthernetHeader(MacAddress.Read(frame), MacAddress.Read(frame[6..]), BinaryPrimitives.ReadUInt16BigEndian(frame[12..]));
        return true;
    }

    /// <summary>Writes the header into the first <see cref="Length"/> bytes of <paramref name="frame"/>.</summary>
    public void Emit(Span<byte> frame)
    {
        Destination.Write(frame);
        Source.Write(frame[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(frame[12..], EtherType);
    }
}
