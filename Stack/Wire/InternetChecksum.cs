using System.Buffers.Binary;

namespace Apps.Stack.Wire;

/// <summary>The RFC 1071 one's-complement Internet checksum.</summary>
public static class InternetChecksum
{
    public static ushort Compute(ReadOnlySpan<byte> data) => Fold(Accumulate(0, data));

    public static uint Accumulate(uint sum, ReadOnlySpan<byte> data)
    {
        ulong s = sum;
        int i = 0;
        for (; i + 1 < data.Length; i += 2) s += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length) s += (uint)data[i] << 8;
        while (s > 0xFFFF_FFFF) s = (s & 0xFFFF_FFFF) + (s >> 32);
        return (uint)s;
    }

    public static ushort Fold(uint sum)
    {
        ulong s = sum;
        while (s > 0xFFFF) s = (s & 0xFFFF) + (s >> 16);
        return (ushort)~s;
    }

    public static uint PseudoHeader(Ipv4Address src, Ipv4Address dst, byte protocol, ushort length)
    {
        ulong s = (src.Value >> 16) + (src.Value & 0xFFFF) + (dst.Value >> 16) + (dst.Value & 0xFFFF) + protocol + (ulong)length;
        return (uint)s;
    }
}
