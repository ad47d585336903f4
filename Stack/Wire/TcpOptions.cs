using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Apps.Stack.Wire;

// Read this first: RFC 9293 §3.2 (option layout, MSS), RFC 7323 §2-3 (window scale,
// timestamps), RFC 2018 §2-3 (SACK-permitted, SACK blocks). Unknown kinds are skipped
// by their length byte; a length that is < 2 or runs past the option space is
// malformed (RFC 9293 §3.1: "MUST be prepared to handle an illegal option length").

/// <summary>One SACK block: the bytes [Left, Right) were received (RFC 2018 §3).</summary>
public readonly record struct TcpSackBlock(TcpSeqNumber Left, TcpSeqNumber Right);

/// <summary>The timestamps option values (RFC 7323 §3.2).</summary>
public readonly record struct TcpTimestamps(uint Value, uint EchoReply);

[InlineArray(MaxCount)]
internal struct TcpSackBlockArray
{
    public const int MaxCount = 4;
    private TcpSackBlock _element;
}

/// <summary>Up to four SACK blocks, stored inline (no allocation).</summary>
public readonly struct TcpSackBlocks : IEquatable<TcpSackBlocks>
{
    private readonly TcpSackBlockArray _blocks;

    public int Count { get; }

    public TcpSackBlocks(ReadOnlySpan<TcpSackBlock> blocks)
    {
        Count = Math.Min(blocks.Length, TcpSackBlockArray.MaxCount);
        for (int i = 0; i < Count; i++) _blocks[i] = blocks[i];
    }

    public TcpSackBlock this[int index] =>
        (uint)index < (uint)Count ? _blocks[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public bool Equals(TcpSackBlocks other)
    {
        if (Count != other.Count) return false;
        for (int i = 0; i < Count; i++) if (_blocks[i] != other._blocks[i]) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is TcpSackBlocks o && Equals(o);
    public override int GetHashCode() => Count == 0 ? 0 : HashCode.Combine(Count, _blocks[0]);
    public static bool operator ==(TcpSackBlocks a, TcpSackBlocks b) => a.Equals(b);
    public static bool operator !=(TcpSackBlocks a, TcpSackBlocks b) => !a.Equals(b);
}

/// <summary>The TCP options this stack understands; others are skipped on parse.</summary>
public readonly record struct TcpOptions
{
    public const int MaxLength = 40;
    public const byte KindEnd = 0, KindNop = 1, KindMss = 2, KindWindowScale = 3,
        KindSackPermitted = 4, KindSack = 5, KindTimestamps = 8;

    /// <summary>RFC 7323 §2.3: shift counts above 14 are treated as 14.</summary>
    public const byte MaxWindowScale = 14;

    public ushort? MaxSegmentSize { get; init; }
    public byte? WindowScale { get; init; }
    public bool SackPermitted { get; init; }
    public TcpTimestamps? Timestamps { get; init; }
    public TcpSackBlocks Sack { get; init; }

    /// <summary>Bytes <see cref="Emit"/> writes: always a multiple of 4.</summary>
    public int Length =>
        (MaxSegmentSize.HasValue ? 4 : 0) + (WindowScale.HasValue ? 4 : 0)
        + (SackPermitted && Timestamps.HasValue ? 12 : (SackPermitted ? 4 : 0) + (Timestamps.HasValue ? 12 : 0))
        + (Sack.Count > 0 ? 4 + 8 * Sack.Count : 0);

    /// <summary>Parses the option bytes of a header (after the 20 fixed bytes).</summary>
    public static TcpParseError TryParse(ReadOnlySpan<byte> source, out TcpOptions options)
    {
        options = default;
        Span<TcpSackBlock> sack = stackalloc TcpSackBlock[TcpSackBlockArray.MaxCount];
        int sackCount = 0;
        int i = 0;
        while (i < source.Length)
        {
            byte kind = source[i];
            if (kind == KindEnd) break;
            if (kind == KindNop) { i++; continue; }
            if (i + 1 >= source.Length) return TcpParseError.MalformedOption;
            int len = source[i + 1];
            if (len < 2 || i + len > source.Length) return TcpParseError.MalformedOption;
            var body = source.Slice(i + 2, len - 2);
            switch (kind)
            {
                case KindMss:
                    if (len != 4) return TcpParseError.MalformedOption;
                    options = options with { MaxSegmentSize = BinaryPrimitives.ReadUInt16BigEndian(body) };
                    break;
                case KindWindowScale:
                    if (len != 3) return TcpParseError.MalformedOption;
                    options = options with { WindowScale = Math.Min(body[0], MaxWindowScale) };
                    break;
                case KindSackPermitted:
                    if (len != 2) return TcpParseError.MalformedOption;
                    options = options with { SackPermitted = true };
                    break;
                case KindTimestamps:
                    if (len != 10) return TcpParseError.MalformedOption;
                    options = options with
                    {
                        Timestamps = new TcpTimestamps(
                            BinaryPrimitives.ReadUInt32BigEndian(body),
                            BinaryPrimitives.ReadUInt32BigEndian(body[4..])),
                    };
                    break;
                case KindSack:
                    if ((len - 2) % 8 != 0 || len == 2) return TcpParseError.MalformedOption;
                    for (int b = 0; b + 8 <= body.Length && sackCount < sack.Length; b += 8)
                    {
                        sack[sackCount++] = new TcpSackBlock(
                            new TcpSeqNumber(BinaryPrimitives.ReadUInt32BigEndian(body[b..])),
                            new TcpSeqNumber(BinaryPrimitives.ReadUInt32BigEndian(body[(b + 4)..])));
                    }
                    break;
                default:
                    break; // RFC 9293 §3.1: unknown options are skipped by length.
            }
            i += len;
        }
        if (sackCount > 0) options = options with { Sack = new TcpSackBlocks(sack[..sackCount]) };
        return TcpParseError.None;
    }

    /// <summary>
    /// Writes <see cref="Length"/> bytes; the caller sized the buffer. Layout as Linux emits it, so a
    /// SYN carrying SACK-permitted and timestamps packs them into 12 bytes: MSS, SACK-permitted +
    /// timestamps (or NOP-padded alone), NOP + window scale, then SACK blocks.
    /// </summary>
    public void Emit(Span<byte> destination)
    {
        int i = 0;
        if (MaxSegmentSize is ushort mss)
        {
            destination[i] = KindMss; destination[i + 1] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(destination[(i + 2)..], mss);
            i += 4;
        }
        if (SackPermitted)
        {
            if (!Timestamps.HasValue) { destination[i] = KindNop; destination[i + 1] = KindNop; i += 2; }
            destination[i] = KindSackPermitted; destination[i + 1] = 2;
            i += 2;
        }
        if (Timestamps is TcpTimestamps ts)
        {
            if (!SackPermitted) { destination[i] = KindNop; destination[i + 1] = KindNop; i += 2; }
            destination[i] = KindTimestamps; destination[i + 1] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(destination[(i + 2)..], ts.Value);
            BinaryPrimitives.WriteUInt32BigEndian(destination[(i + 6)..], ts.EchoReply);
            i += 10;
        }
        if (WindowScale is byte ws)
        {
            destination[i] = KindNop; destination[i + 1] = KindWindowScale; destination[i + 2] = 3; destination[i + 3] = ws;
            i += 4;
        }
        if (Sack.Count > 0)
        {
            destination[i] = KindNop; destination[i + 1] = KindNop; destination[i + 2] = KindSack;
            destination[i + 3] = (byte)(2 + 8 * Sack.Count);
            i += 4;
            for (int b = 0; b < Sack.Count; b++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(destination[i..], Sack[b].Left.Value);
                BinaryPrimitives.WriteUInt32BigEndian(destination[(i + 4)..], Sack[b].Right.Value);
                i += 8;
            }
        }
    }
}
