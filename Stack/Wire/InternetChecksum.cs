using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        // RFC 1071 §2(B) and (C): the sum is independent of byte order and of word width, so we add
        // native-order 64-bit words with end-around carry, fold to 16 bits, and swap the bytes back
        // to network order on little-endian machines.
        // Each 64-bit read is split into two 32-bit halves added to separate 64-bit accumulators: no
        // carry handling in the loop (2^32 additions cannot overflow), and independent dependency chains.
        ulong acc = 0, acc2 = 0;
        ref byte start = ref MemoryMarshal.GetReference(data);
        int i = 0;
        if (Vector256.IsHardwareAccelerated && data.Length >= 64)
            acc = SumVector256(ref start, data.Length, ref i);
        else if (Vector128.IsHardwareAccelerated && data.Length >= 32)
            acc = SumVector128(ref start, data.Length, ref i);
        for (; i + 32 <= data.Length; i += 32)
        {
            ulong w0 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i));
            ulong w1 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i + 8));
            ulong w2 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i + 16));
            ulong w3 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i + 24));
            acc += (w0 & 0xFFFF_FFFF) + (w1 & 0xFFFF_FFFF) + (w2 & 0xFFFF_FFFF) + (w3 & 0xFFFF_FFFF);
            acc2 += (w0 >> 32) + (w1 >> 32) + (w2 >> 32) + (w3 >> 32);
        }
        for (; i + 8 <= data.Length; i += 8)
        {
            ulong w = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i));
            acc += w & 0xFFFF_FFFF;
            acc2 += w >> 32;
        }
        if (i < data.Length)
        {
            // The tail sits at an even offset: zero-padding it to 8 bytes pads the odd byte as §2 says.
            // Built in native byte order, as the 8-byte loads above read the data.
            ulong w = 0;
            for (int k = 0; i + k < data.Length; k++)
                w |= (ulong)Unsafe.Add(ref start, i + k) << (BitConverter.IsLittleEndian ? 8 * k : 56 - 8 * k);
            acc += w & 0xFFFF_FFFF;
            acc2 += w >> 32;
        }
        acc = AddWithCarry(acc, acc2);
        acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
        acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
        uint folded = (uint)acc;
        folded = (folded & 0xFFFF) + (folded >> 16);
        folded = (folded & 0xFFFF) + (folded >> 16);
        ushort networkOrder = BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness((ushort)folded) : (ushort)folded;
        ulong total = (ulong)sum + networkOrder;
        return (uint)((total & 0xFFFF_FFFF) + (total >> 32));
    }

    // The vector loops add each 32-bit lane's two 16-bit halves into 32-bit lane sums: a lane grows by
    // at most 2 * 0xFFFF per step, so 32768 steps cannot overflow; longer data is summed in chunks.
    // Sums of native-order 16-bit words and of 32-bit words are congruent modulo 0xFFFF, so the result
    // joins the scalar accumulator before the common fold (RFC 1071 §2(C), "parallel summation").
    private const int MaxVectorSteps = 32768;

    private static ulong SumVector256(ref byte start, int length, ref int i)
    {
        ulong total = 0;
        var low = Vector256.Create(0xFFFFu);
        while (i + Vector256<byte>.Count <= length)
        {
            var sum = Vector256<uint>.Zero;
            for (int steps = 0; steps < MaxVectorSteps && i + Vector256<byte>.Count <= length; steps++, i += Vector256<byte>.Count)
            {
                var v = Vector256.LoadUnsafe(ref start, (nuint)i).AsUInt32();
                sum += (v & low) + (v >> 16);
            }
            var (a, b) = Vector256.Widen(sum);
            total += Vector256.Sum(a + b);
        }
        return total;
    }

    private static ulong SumVector128(ref byte start, int length, ref int i)
    {
        ulong total = 0;
        var low = Vector128.Create(0xFFFFu);
        while (i + Vector128<byte>.Count <= length)
        {
            var sum = Vector128<uint>.Zero;
            for (int steps = 0; steps < MaxVectorSteps && i + Vector128<byte>.Count <= length; steps++, i += Vector128<byte>.Count)
            {
                var v = Vector128.LoadUnsafe(ref start, (nuint)i).AsUInt32();
                sum += (v & low) + (v >> 16);
            }
            var (a, b) = Vector128.Widen(sum);
            total += Vector128.Sum(a + b);
        }
        return total;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong AddWithCarry(ulong acc, ulong word)
    {
        ulong t = acc + word;
        return t + (t < word ? 1UL : 0UL);
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
    /// Completes a checksum left partial for an offloading link (its field holds the folded pseudo-header
    /// sum): sums <paramref name="data"/> (the transport header and payload) and stores the result at
    /// <paramref name="checksumOffset"/>, as the link would have.
    /// </summary>
    public static void CompletePartial(Span<byte> data, int checksumOffset)
    {
        ushort checksum = Fold(Accumulate(0, data));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(data[checksumOffset..], checksum);
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
