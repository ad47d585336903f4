using System.Buffers.Binary;

namespace Apps.Stack.Wire;

/// <summary>A UDP header (RFC 768): ports, length (header plus data) and checksum.</summary>
public readonly record struct UdpHeader(ushort SourcePort, ushort DestinationPort, ushort Length)
{
    /// <summary>Header length in bytes.</summary>
    public const int HeaderLength = 8;

    /// <summary>Largest payload a UDP datagram can carry over IPv4 without options.</summary>
    public const int MaxPayload = Ipv4Header.MaxTotalLength - Ipv4Header.MinLength - HeaderLength;

    /// <summary>
    /// Parses a datagram taken from an IPv4 packet and checks the checksum with the pseudo-header
    /// (RFC 768; a zero checksum means the sender did not compute one and is accepted, RFC 1122 §4.1.3.4).
    /// The UDP length must fit in <paramref name="datagram"/>; bytes after it are ignored. With
    /// <paramref name="checksumTrusted"/> (the local kernel vouched for it over an offloading link) the
    /// checksum is not verified.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, Ipv4Address source, Ipv4Address destination, out UdpHeader header, out DropReason reason, bool checksumTrusted = false)
    {
        header = default;
        if (datagram.Length < HeaderLength)
        {
            reason = DropReason.Truncated;
            return false;
        }
        ushort length = BinaryPrimitives.ReadUInt16BigEndian(datagram[4..]);
        if (length < HeaderLength)
        {
            reason = DropReason.Malformed;
            return false;
        }
        if (length > datagram.Length)
        {
            reason = DropReason.Truncated;
            return false;
        }
        ushort checksum = BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]);
        if (checksum != 0 && !checksumTrusted)
        {
            uint sum = InternetChecksum.PseudoHeader(source, destination, IpProtocol.Udp, length);
            if (InternetChecksum.Fold(InternetChecksum.Accumulate(sum, datagram[..length])) != 0)
            {
                reason = DropReason.BadChecksum;
                return false;
            }
        }
        header = new UdpHeader(BinaryPrimitives.ReadUInt16BigEndian(datagram), BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]), length);
        reason = DropReason.None;
        return true;
    }

    /// <summary>
    /// Writes the header at the start of <paramref name="datagram"/> (whose remaining <c>Length - 8</c>
    /// bytes already hold the data) and fills in the checksum; a computed 0 is sent as 0xFFFF (RFC 768).
    /// </summary>
    public void Emit(Span<byte> datagram, Ipv4Address source, Ipv4Address destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(datagram, SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[2..], DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[4..], Length);
        datagram[6] = 0;
        datagram[7] = 0;
        uint sum = InternetChecksum.PseudoHeader(source, destination, IpProtocol.Udp, Length);
        ushort checksum = InternetChecksum.Fold(InternetChecksum.Accumulate(sum, datagram[..Length]));
        BinaryPrimitives.WriteUInt16BigEndian(datagram[6..], checksum == 0 ? (ushort)0xFFFF : checksum);
    }
}
