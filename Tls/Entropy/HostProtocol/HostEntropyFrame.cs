using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Apps.Tls.Entropy.HostProtocol;

/// <summary>Fills a span with random bytes (Fortuna's or the OS's Fill).</summary>
public delegate void SpanFiller(Span<byte> destination);

/// <summary>Frame types of the host entropy protocol.</summary>
public enum HostEntropyFrameType : byte
{
    /// <summary>Guest → host: send me N bytes. Body: N as u16, big-endian.</summary>
    Request = 0x01,
    /// <summary>Host → guest: the bytes. Body: exactly the N bytes asked for.</summary>
    Data = 0x02,
    /// <summary>Host → guest: a refusal. Body: code (u8), retry-after ms (u32 BE), UTF-8 text.</summary>
    Error = 0x03,
}

/// <summary>Why the host refused a request.</summary>
public enum HostEntropyError : byte
{
    /// <summary>The frame could not be parsed; the host closes the connection after this.</summary>
    Malformed = 1,
    /// <summary>More bytes than the host's maximum request size were asked for.</summary>
    TooLarge = 2,
    /// <summary>This connection is over its rate limit; retry after the given time.</summary>
    RateLimited = 3,
    /// <summary>The host's own generator failed.</summary>
    Unavailable = 4,
    /// <summary>The frame's protocol version is not 1; the host closes the connection after this.</summary>
    UnsupportedVersion = 5,
}

/// <summary>
/// One frame of the host entropy protocol (version 1):
/// <code>
/// frame = version:u8 (=1) | type:u8 | length:u16 BE | body[length]
/// </code>
/// A guest sends Request frames and reads one Data or Error frame per request, in order.
/// </summary>
public readonly record struct HostEntropyFrame(HostEntropyFrameType Type, ReadOnlyMemory<byte> Body)
{
    /// <summary>The protocol version this code speaks.</summary>
    public const byte Version = 1;

    /// <summary>Bytes before the body.</summary>
    public const int HeaderLength = 4;

    /// <summary>The largest body any frame may carry (a Data frame of 16 KiB).</summary>
    public const int MaxBodyLength = 16 * 1024;

    /// <summary>The longest error text a host sends.</summary>
    public const int MaxErrorText = 256;

    /// <summary>The byte count of a Request frame.</summary>
    public ushort RequestedBytes => Type == HostEntropyFrameType.Request && Body.Length == 2
        ? BinaryPrimitives.ReadUInt16BigEndian(Body.Span)
        : throw new InvalidOperationException("not a well-formed request frame");

    /// <summary>The error code of an Error frame.</summary>
    public HostEntropyError ErrorCode => (HostEntropyError)Body.Span[0];

    /// <summary>How long the host asks the guest to wait (Error frames).</summary>
    public TimeSpan RetryAfter => TimeSpan.FromMilliseconds(BinaryPrimitives.ReadUInt32BigEndian(Body.Span[1..]));

    /// <summary>The host's explanation (Error frames).</summary>
    public string ErrorText => Encoding.UTF8.GetString(Body.Span[5..]);

    /// <summary>Writes a Request frame for <paramref name="count"/> bytes.</summary>
    public static void WriteRequest(IBufferWriter<byte> output, ushort count)
    {
        Span<byte> frame = output.GetSpan(HeaderLength + 2);
        WriteHeader(frame, HostEntropyFrameType.Request, 2);
        BinaryPrimitives.WriteUInt16BigEndian(frame[HeaderLength..], count);
        output.Advance(HeaderLength + 2);
    }

    /// <summary>Writes a Data frame of <paramref name="count"/> bytes that <paramref name="fill"/> produces in place.</summary>
    public static void WriteData(IBufferWriter<byte> output, int count, SpanFiller fill)
    {
        if (count is < 0 or > MaxBodyLength)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"a data frame carries 0 to {MaxBodyLength} bytes");
        }
        Span<byte> frame = output.GetSpan(HeaderLength + count);
        fill(frame.Slice(HeaderLength, count)); // may throw: then nothing was advanced
        WriteHeader(frame, HostEntropyFrameType.Data, (ushort)count);
        output.Advance(HeaderLength + count);
    }

    /// <summary>Writes an Error frame; <paramref name="text"/> is cut to <see cref="MaxErrorText"/> bytes.</summary>
    public static void WriteError(IBufferWriter<byte> output, HostEntropyError code, string text, TimeSpan retryAfter = default)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        int textLength = Math.Min(utf8.Length, MaxErrorText);
        int body = 5 + textLength;
        Span<byte> frame = output.GetSpan(HeaderLength + body);
        WriteHeader(frame, HostEntropyFrameType.Error, (ushort)body);
        frame[HeaderLength] = (byte)code;
        BinaryPrimitives.WriteUInt32BigEndian(frame[(HeaderLength + 1)..], (uint)Math.Clamp(retryAfter.TotalMilliseconds, 0, uint.MaxValue));
        utf8.AsSpan(0, textLength).CopyTo(frame[(HeaderLength + 5)..]);
        output.Advance(HeaderLength + body);
    }

    private static void WriteHeader(Span<byte> frame, HostEntropyFrameType type, ushort length)
    {
        frame[0] = Version;
        frame[1] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(frame[2..], length);
    }
}
