using System.Buffers;
using System.Buffers.Binary;

namespace Apps.Tls.Entropy.HostProtocol;

/// <summary>What <see cref="HostEntropyFrameReader.TryRead"/> found.</summary>
public enum FrameReadResult
{
    /// <summary>A whole, well-formed frame was read and consumed.</summary>
    Frame,
    /// <summary>The buffer holds only part of a frame; nothing was consumed.</summary>
    NeedMoreData,
    /// <summary>The bytes are not a valid frame; the connection should end.</summary>
    Malformed,
    /// <summary>The frame has another protocol version; the connection should end.</summary>
    UnsupportedVersion,
}

/// <summary>
/// Parses host entropy frames from untrusted bytes, in the shape of Kestrel's parsers:
/// <c>NeedMoreData</c> consumes nothing; a frame is checked whole before anything is used.
/// Limits: bodies of at most <see cref="HostEntropyFrame.MaxBodyLength"/> bytes; a Request
/// body is exactly 2 bytes; an Error body is 5 to 5 + <see cref="HostEntropyFrame.MaxErrorText"/> bytes.
/// </summary>
public static class HostEntropyFrameReader
{
    /// <summary>Tries to read one frame from the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Received bytes.</param>
    /// <param name="frame">The frame (its body copied out of <paramref name="buffer"/>).</param>
    /// <param name="consumed">Where the frame ended (the start of <paramref name="buffer"/> when nothing was consumed).</param>
    /// <param name="problem">Why a frame was malformed, for the error reply.</param>
    public static FrameReadResult TryRead(in ReadOnlySequence<byte> buffer, out HostEntropyFrame frame,
        out SequencePosition consumed, out string? problem)
    {
        frame = default;
        consumed = buffer.Start;
        problem = null;
        if (buffer.Length < 1)
        {
            return FrameReadResult.NeedMoreData;
        }
        // The version is judged as soon as it arrives, so that a stranger protocol is refused at once.
        byte version = buffer.FirstSpan[0];
        if (version != HostEntropyFrame.Version)
        {
            problem = $"protocol version {version} is not supported (this host speaks version {HostEntropyFrame.Version})";
            return FrameReadResult.UnsupportedVersion;
        }
        if (buffer.Length < HostEntropyFrame.HeaderLength)
        {
            return FrameReadResult.NeedMoreData;
        }
        Span<byte> header = stackalloc byte[HostEntropyFrame.HeaderLength];
        buffer.Slice(0, HostEntropyFrame.HeaderLength).CopyTo(header);
        var type = (HostEntropyFrameType)header[1];
        int length = BinaryPrimitives.ReadUInt16BigEndian(header[2..]);

        problem = type switch
        {
            HostEntropyFrameType.Request when length != 2 => $"a request frame has a 2-byte body, not {length} bytes",
            HostEntropyFrameType.Data when length > HostEntropyFrame.MaxBodyLength => $"a data frame of {length} bytes exceeds the {HostEntropyFrame.MaxBodyLength}-byte limit",
            HostEntropyFrameType.Error when length < 5 || length > 5 + HostEntropyFrame.MaxErrorText => $"an error frame has a 5 to {5 + HostEntropyFrame.MaxErrorText}-byte body, not {length} bytes",
            HostEntropyFrameType.Request or HostEntropyFrameType.Data or HostEntropyFrameType.Error => null,
            _ => $"unknown frame type 0x{(byte)type:x2}",
        };
        if (problem is not null)
        {
            return FrameReadResult.Malformed;
        }
        if (buffer.Length < HostEntropyFrame.HeaderLength + length)
        {
            return FrameReadResult.NeedMoreData;
        }
        byte[] body = buffer.Slice(HostEntropyFrame.HeaderLength, length).ToArray();
        frame = new HostEntropyFrame(type, body);
        consumed = buffer.GetPosition(HostEntropyFrame.HeaderLength + length);
        return FrameReadResult.Frame;
    }
}
