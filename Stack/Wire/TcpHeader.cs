using System.Buffers.Binary;

namespace Apps.Stack.Wire;

// RFC 9293 §3.1 header format:
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |          Source Port          |       Destination Port        |
// |                        Sequence Number                        |
// |                    Acknowledgment Number                      |
// |  Data |       |C|E|U|A|P|R|S|F|                               |
// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
// |           Checksum            |         Urgent Pointer        |
// |                     Options (0-40 bytes)                      |
// Rule: lengths are checked on untrusted input (TryParse, the view); never on a buffer we emit into.

/// <summary>A read-only view over the bytes of a TCP segment whose length was checked.</summary>
public readonly ref struct TcpSegmentView
{
    private readonly ReadOnlySpan<byte> _bytes;

    private TcpSegmentView(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks the fixed header and data offset against the buffer length.</summary>
    public static TcpParseError TryCreate(ReadOnlySpan<byte> bytes, out TcpSegmentView view)
    {
        view = default;
        if (bytes.Length < TcpHeader.MinLength) return TcpParseError.Truncated;
        int offset = (bytes[12] >> 4) * 4;
        if (offset < TcpHeader.MinLength) return TcpParseError.BadDataOffset;
        if (offset > bytes.Length) return TcpParseError.Truncated;
        view = new TcpSegmentView(bytes);
        return TcpParseError.None;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_bytes);
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_bytes[2..]);
    public TcpSeqNumber Sequence => new(BinaryPrimitives.ReadUInt32BigEndian(_bytes[4..]));
    public TcpSeqNumber Acknowledgment => new(BinaryPrimitives.ReadUInt32BigEndian(_bytes[8..]));
    public int HeaderLength => (_bytes[12] >> 4) * 4;
    public TcpFlags Flags => (TcpFlags)_bytes[13];
    public ushort Window => BinaryPrimitives.ReadUInt16BigEndian(_bytes[14..]);
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[16..]);
    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_bytes[18..]);
    public ReadOnlySpan<byte> OptionBytes => _bytes[TcpHeader.MinLength..HeaderLength];
    public ReadOnlySpan<byte> Payload => _bytes[HeaderLength..];
}

/// <summary>A validated TCP header (RFC 9293 §3.1) with its options.</summary>
public readonly record struct TcpHeader(
    ushort SourcePort,
    ushort DestinationPort,
    TcpSeqNumber Sequence,
    TcpSeqNumber Acknowledgment,
    TcpFlags Flags,
    ushort Window,
    TcpOptions Options = default,
    ushort UrgentPointer = 0)
{
    public const int MinLength = 20;
    public const int MaxLength = 60;
    public const byte IpProtocol = 6;

    /// <summary>Bytes <see cref="Emit"/> writes (fixed header plus options).</summary>
    public int Length => MinLength + Options.Length;

    /// <summary>
    /// Parses the header of <paramref name="segment"/>; on success <paramref name="headerLength"/> is
    /// where the payload starts. Does not check the checksum (see <see cref="VerifyChecksum"/>).
    /// </summary>
    public static TcpParseError TryParse(ReadOnlySpan<byte> segment, out TcpHeader header, out int headerLength)
    {
        header = default;
        headerLength = 0;
        var error = TcpSegmentView.TryCreate(segment, out var view);
        if (error != TcpParseError.None) return error;
        error = TcpOptions.TryParse(view.OptionBytes, out var options);
        if (error != TcpParseError.None) return error;
        header = new TcpHeader(view.SourcePort, view.DestinationPort, view.Sequence, view.Acknowledgment,
            view.Flags, view.Window, options, view.UrgentPointer);
        headerLength = view.HeaderLength;
        return TcpParseError.None;
    }

    /// <summary>Writes the header with a zero checksum; <paramref name="destination"/> holds at least <see cref="Length"/> bytes.</summary>
    public void Emit(Span<byte> destination)
    {
        int length = Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination, SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], Sequence.Value);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Acknowledgment.Value);
        destination[12] = (byte)((length / 4) << 4);
        destination[13] = (byte)Flags;
        BinaryPrimitives.WriteUInt16BigEndian(destination[14..], Window);
        BinaryPrimitives.WriteUInt16BigEndian(destination[16..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(destination[18..], UrgentPointer);
        Options.Emit(destination[MinLength..length]);
    }

    /// <summary>Fills the checksum field of a complete segment (header and payload) for IPv4.</summary>
    public static void WriteChecksum(Span<byte> segment, Ipv4Address source, Ipv4Address destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(segment[16..], 0);
        uint sum = InternetChecksum.PseudoHeader(source, destination, IpProtocol, (ushort)segment.Length);
        ushort checksum = InternetChecksum.Fold(InternetChecksum.Accumulate(sum, segment));
        BinaryPrimitives.WriteUInt16BigEndian(segment[16..], checksum);
    }

    /// <summary>
    /// Writes the partial checksum a link with checksum offload completes: the folded pseudo-header sum,
    /// not complemented (what Linux puts there for CHECKSUM_PARTIAL). Summing the whole segment with this
    /// in place and complementing gives the RFC 9293 §3.1 checksum (see <see cref="InternetChecksum.CompletePartial"/>).
    /// </summary>
    public static void WritePartialChecksum(Span<byte> segment, Ipv4Address source, Ipv4Address destination) =>
        WritePartialChecksum(segment, segment.Length, source, destination);

    /// <summary>
    /// <see cref="WritePartialChecksum(Span{byte}, Ipv4Address, Ipv4Address)"/> into a header whose segment
    /// (header and data) is <paramref name="segmentLength"/> bytes long: the data need not follow it in memory.
    /// </summary>
    public static void WritePartialChecksum(Span<byte> header, int segmentLength, Ipv4Address source, Ipv4Address destination)
    {
        uint sum = InternetChecksum.PseudoHeader(source, destination, IpProtocol, (ushort)segmentLength);
        BinaryPrimitives.WriteUInt16BigEndian(header[16..], (ushort)~InternetChecksum.Fold(sum));
    }

    /// <summary>True when the checksum of a complete segment verifies (RFC 9293 §3.1).</summary>
    public static bool VerifyChecksum(ReadOnlySpan<byte> segment, Ipv4Address source, Ipv4Address destination)
    {
        if (segment.Length > ushort.MaxValue) return false;
        uint sum = InternetChecksum.PseudoHeader(source, destination, IpProtocol, (ushort)segment.Length);
        return InternetChecksum.Fold(InternetChecksum.Accumulate(sum, segment)) == 0;
    }
}
