using System.Buffers.Binary;
using Apps.Stack.Netif;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Wire;

/// <summary>
/// The virtio-net header of an offloading TAP device (linux/virtio_net.h), and what TapInterface makes
/// of a read that carries one: every malformed header is refused (the frame dropped), never thrown on.
/// </summary>
public class VirtioNetHeaderTests
{
    // What Linux puts before a TCPv4 GSO super-frame: NEEDS_CSUM, GSO_TCPV4, hdr_len 66 (Ethernet + IPv4 +
    // TCP with timestamps), gso_size 1448, csum_start 34, csum_offset 16, little-endian.
    private static readonly byte[] SuperFrameHeader = [0x01, 0x01, 0x42, 0x00, 0xA8, 0x05, 0x22, 0x00, 0x10, 0x00];
    private static readonly VirtioNetHeader Expected = new(1, 1, 66, 1448, 34, 16);

    private static byte[] Read(byte[] header, int frameLength)
    {
        var read = new byte[header.Length + frameLength];
        header.CopyTo(read, 0);
        return read;
    }

    private static byte[] Header(byte flags = 1, byte gso = 1, ushort hdrLen = 66, ushort gsoSize = 1448, ushort start = 34, ushort offset = 16)
    {
        var bytes = new byte[VirtioNetHeader.Length];
        new VirtioNetHeader(flags, gso, hdrLen, gsoSize, start, offset).Emit(bytes);
        return bytes;
    }

    [Fact]
    public void Deconstruct()
    {
        Assert.True(VirtioNetHeader.TryParse(Read(SuperFrameHeader, 20000), out var header, out var error), error.ToString());
        Assert.Equal(Expected, header);
        Assert.True(header.NeedsChecksum && header.ChecksumTrusted && header.IsSegmented);
    }

    [Fact]
    public void Construct()
    {
        var bytes = new byte[VirtioNetHeader.Length];
        Expected.Emit(bytes);
        Assert.Equal(SuperFrameHeader, bytes);
    }

    [Fact]
    public void Plain_frame_with_a_zero_header_is_accepted_untrusted()
    {
        Assert.True(VirtioNetHeader.TryParse(Read(new byte[10], 60), out var header, out _));
        Assert.False(header.ChecksumTrusted || header.IsSegmented);
    }

    [Fact]
    public void Data_valid_frame_is_trusted_but_not_partial()
    {
        Assert.True(TapInterface.TryUnwrap(Read(Header(flags: 2, gso: 0, hdrLen: 0, gsoSize: 0, start: 0, offset: 0), 60), out var frame, out var offload, out _));
        Assert.Equal(60, frame.Length);
        Assert.True(offload.ChecksumTrusted);
        Assert.Equal(0, offload.ChecksumStart);
    }

    [Fact]
    public void Unwrapping_a_super_frame_keeps_its_checksum_position_and_segment_size()
    {
        Assert.True(TapInterface.TryUnwrap(Read(SuperFrameHeader, 30000), out var frame, out var offload, out _));
        Assert.Equal(30000, frame.Length);
        Assert.Equal(new FrameOffload { ChecksumTrusted = true, ChecksumStart = 34, ChecksumOffset = 16, SegmentSize = 1448 }, offload);
    }

    public static TheoryData<string, byte[], VirtioNetHeaderError> Hostile() => new()
    {
        { "empty read", [], VirtioNetHeaderError.Truncated },
        { "half a header", SuperFrameHeader[..5], VirtioNetHeaderError.Truncated },
        { "header without a frame", SuperFrameHeader, VirtioNetHeaderError.Truncated },
        { "header and 13 bytes", Read(Header(flags: 0, gso: 0, hdrLen: 0, gsoSize: 0, start: 0, offset: 0), 13), VirtioNetHeaderError.Truncated },
        { "frame over 64 KiB", Read(SuperFrameHeader, VirtioNetHeader.MaxFrameLength + 1), VirtioNetHeaderError.FrameTooLong },
        { "unknown flag bit", Read(Header(flags: 0x05), 2000), VirtioNetHeaderError.UnknownFlags },
        { "GSO UDP", Read(Header(gso: 3), 2000), VirtioNetHeaderError.UnknownGsoType },
        { "GSO TCPv6", Read(Header(gso: 4), 2000), VirtioNetHeaderError.UnknownGsoType },
        { "GSO TCPv4 with ECN (not accepted)", Read(Header(gso: 0x81), 2000), VirtioNetHeaderError.UnknownGsoType },
        { "GSO type 0xFF", Read(Header(gso: 0xFF), 2000), VirtioNetHeaderError.UnknownGsoType },
        { "hdr_len past the frame", Read(Header(hdrLen: 2001), 2000), VirtioNetHeaderError.BadHeaderLength },
        { "hdr_len 0xFFFF", Read(Header(hdrLen: 0xFFFF), 2000), VirtioNetHeaderError.BadHeaderLength },
        { "csum_start inside the Ethernet header", Read(Header(start: 6), 2000), VirtioNetHeaderError.BadChecksumPosition },
        { "csum_start past the frame", Read(Header(start: 1999), 2000), VirtioNetHeaderError.BadChecksumPosition },
        { "csum_offset past the frame", Read(Header(offset: 1966), 2000), VirtioNetHeaderError.BadChecksumPosition },
        { "csum_start + csum_offset overflowing 16 bits", Read(Header(start: 0xFFFF, offset: 0xFFFF), 2000), VirtioNetHeaderError.BadChecksumPosition },
        { "GSO with a zero segment size", Read(Header(gsoSize: 0), 2000), VirtioNetHeaderError.BadSegmentation },
        { "GSO without a partial checksum", Read(Header(flags: 2), 2000), VirtioNetHeaderError.BadSegmentation },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_header_is_refused_with_its_reason(string what, byte[] read, VirtioNetHeaderError expected)
    {
        Assert.False(VirtioNetHeader.TryParse(read, out _, out var error), what);
        Assert.Equal(expected, error);
        Assert.False(TapInterface.TryUnwrap(read, out var frame, out var offload, out error), what);
        Assert.Equal(expected, error);
        Assert.True(frame.IsEmpty);
        Assert.Equal(default, offload);
    }

    [Fact]
    public void Random_headers_never_throw_and_accepted_ones_point_inside_the_frame()
    {
        var rng = new Random(7);
        var read = new byte[VirtioNetHeader.Length + 1600];
        for (int i = 0; i < 20000; i++)
        {
            rng.NextBytes(read.AsSpan(0, VirtioNetHeader.Length));
            // Bias half the cases toward valid flag and type values, so the later checks run too.
            if (i % 2 == 0) { read[0] &= 3; read[1] &= 1; }
            int length = rng.Next(0, read.Length + 1);
            if (!VirtioNetHeader.TryParse(read.AsSpan(0, length), out var h, out _))
                continue;
            int frame = length - VirtioNetHeader.Length;
            Assert.True(h.HeaderLength <= frame);
            if (h.NeedsChecksum)
                Assert.True(h.ChecksumStart >= 14 && h.ChecksumStart + h.ChecksumOffset + 2 <= frame);
            Assert.True(!h.IsSegmented || h.GsoSize > 0);
        }
    }

    [Fact]
    public void Completing_a_partial_checksum_gives_the_full_one()
    {
        var segment = new byte[1000];
        new Random(3).NextBytes(segment);
        segment[12] = 0x50;
        var src = Ipv4Address.Parse("10.0.0.1");
        var dst = Ipv4Address.Parse("10.0.0.2");
        var full = segment.ToArray();
        TcpHeader.WriteChecksum(full, src, dst);
        TcpHeader.WritePartialChecksum(segment, src, dst);
        InternetChecksum.CompletePartial(segment, VirtioNetHeader.TcpChecksumOffset);
        Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(full.AsSpan(16)), BinaryPrimitives.ReadUInt16BigEndian(segment.AsSpan(16)));
        Assert.True(TcpHeader.VerifyChecksum(segment, src, dst));
    }
}
