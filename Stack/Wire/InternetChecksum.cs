using System.Buffers.Binary;

namespace Apps.Stack.Wire;

/// <summary>
/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of the
/// data taken as big-endian 16-bit words, an odd final byte padded with a zero byte.
/// </summary>
/// <remarks>
/// Read this first. Usage: <c>Fold(Accumulate(PseudoHeader(src, dst, 6, len), segment))</c> gives the
/// value to put in a TCP/UDP checksum field (the field itself zeroed while summing); running the same
/// expression over a received segment (field included) gives 0 when the checksum is right.
/// <see cref="Accumulate"/> can be chained over several spans, but only the last one may have odd length
/// (RFC 1071 §2 sums 16-bit words; an odd span in the middle would shift every later byte).
/// </remarks>
public static class InternetChecksum
{
    /// <summary>The checksum of <paramref name="data"/> alone: <c>Fold(Accumulate(0, data))</c>.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Fold(Accumulate(0, data));

    /// <summary>
    /// Adds <paramref name="data"/> to a running one's complement sum (not yet folded or complemented).
    /// The carries are kept in the upper bits; <see cref="Fold"/> wraps them around.
    /// </summary>
    public static uint Accumulate(uint sum, ReadOnlySpan<byte> data)
    {
        // RFC 1071 §2(C): summing 32-bit words and folding at the end gives the same result as 16-bit
        // words; a 64-bit accumulator cannot overflow for any span .NET can address.
        ulong acc = sum;
        int i = 0;
        for (; i + 16 <= data.Length; i += 16)
        {
            acc += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
            acc += BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..]);
            acc += BinaryPrimitives.ReadUInt32BigEndian(data[(i + 8)..]);
            acc += BinaryPrimitives.ReadUInt32BigEndian(data[(i + 12)..]);
        }
        for (; i + 4 <= data.Length; i += 4)
            acc += BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
        if (i + 2 <= data.Length)
        {
            acc += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
            i += 2;
        }
        if (i < data.Length)
            acc += (uint)data[i] << 8;
        while ((acc >> 32) != 0)
            acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
        return (uint)acc;
    }

    /// <summary>
    /// Folds the carries of a running sum into 16 bits and complements it: the value for a checksum
    /// field, or 0 when verifying data that includes a correct checksum.
    /// </summary>
    public static ushort Fold(uint sum)
    {
        while ((sum >> 16) != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>
    /// The running sum of the TCP/UDP pseudo-header (RFC 9293 §3.1, RFC 768): source, destination,
    /// zero, protocol, and the TCP/UDP length (header plus data) in bytes.
    /// </summary>
    public static uint PseudoHeader(Ipv4Address source, Ipv4Address destination, byte protocol, ushort length) =>
        (source.Value >> 16) + (source.Value & 0xFFFF)
        + (destination.Value >> 16) + (destination.Value & 0xFFFF)
        + protocol + (uint)length;
}
