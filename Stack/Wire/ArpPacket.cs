using System.Buffers.Binary;

namespace Apps.Stack.Wire;

/// <summary>ARP operation codes (RFC 826).</summary>
public enum ArpOperation : ushort
{
    /// <summary>Who has TPA? Tell SPA.</summary>
    Request = 1,
    /// <summary>SPA is at SHA.</summary>
    Reply = 2,
}

/// <summary>
/// An ARP packet for Ethernet and IPv4 (RFC 826): hardware type 1, protocol 0x0800, lengths 6 and 4.
/// Other hardware/protocol combinations are refused by <see cref="TryParse"/>.
/// </summary>
public readonly record struct ArpPacket(
    ArpOperation Operation,
    MacAddress SenderHardware,
    Ipv4Address SenderProtocol,
    MacAddress TargetHardware,
    Ipv4Address TargetProtocol)
{
    /// <summary>Packet length in bytes.</summary>
    public const int Length = 28;

    /// <summary>Parses an Ethernet/IPv4 ARP packet; trailing link padding is ignored.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out ArpPacket packet, out DropReason reason)
    {
        packet = default;
        if (data.Length < Length)
        {
            reason = DropReason.Truncated;
            return false;
        }
        if (BinaryPrimitives.ReadUInt16BigEndian(data) != 1 || BinaryPrimitives.ReadUInt16BigEndian(data[2..]) != (ushort)EtherType.Ipv4
            || data[4] != MacAddress.Length || data[5] != Ipv4Address.Length)
        {
            reason = DropReason.Unsupported;
            return false;
        }
        var op = (ArpOperation)BinaryPrimitives.ReadUInt16BigEndian(data[6..]);
        if (op is not (ArpOperation.Request or ArpOperation.Reply))
        {
            reason = DropReason.Unsupported;
            return false;
        }
        packet = new ArpPacket(op, MacAddress.Read(data[8..]), Ipv4Address.Read(data[14..]), MacAddress.Read(data[18..]), Ipv4Address.Read(data[24..]));
        reason = DropReason.None;
        return true;
    }

    /// <summary>Writes the packet into the first <see cref="Length"/> bytes of <paramref name="data"/>.</summary>
    public void Emit(Span<byte> data)
    {
        BinaryPrimitives.WriteUInt16BigEndian(data, 1);
        BinaryPrimitives.WriteUInt16BigEndian(data[2..], (ushort)EtherType.Ipv4);
        data[4] = MacAddress.Length;
        data[5] = Ipv4Address.Length;
        BinaryPrimitives.WriteUInt16BigEndian(data[6..], (ushort)Operation);
        SenderHardware.Write(data[8..]);
        SenderProtocol.Write(data[14..]);
        TargetHardware.Write(data[18..]);
        TargetProtocol.Write(data[24..]);
    }
}
