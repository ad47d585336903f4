using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

public class TcpHeaderTests
{
    // A Linux-style SYN 10.0.0.1:42046 -> 10.0.0.2:80 with options in the kernel's order:
    // MSS 1460, SACK-permitted, timestamps (123456, 0), NOP, window scale 7. Checksum computed independently.
    internal static readonly byte[] SynBytes = Convert.FromHexString(
        "a43e00501234567800000000a002faf049900000" + "020405b40402080a0001e2400000000001030307");

    internal static readonly Ipv4Address Src = Ipv4Address.Parse("10.0.0.1");
    internal static readonly Ipv4Address Dst = Ipv4Address.Parse("10.0.0.2");

    private static readonly TcpHeader SynHeader = new(
        42046, 80, new TcpSeqNumber(0x12345678), new TcpSeqNumber(0), TcpFlags.Syn, 64240,
        new TcpOptions
        {
            MaxSegmentSize = 1460, SackPermitted = true, Timestamps = new TcpTimestamps(123456, 0), WindowScale = 7,
        });

    [Fact]
    public void Deconstructs_fields_through_the_view()
    {
        Assert.Equal(TcpParseError.None, TcpSegmentView.TryCreate(SynBytes, out var view));
        Assert.Equal(42046, view.SourcePort);
        Assert.Equal(80, view.DestinationPort);
        Assert.Equal(0x12345678u, view.Sequence.Value);
        Assert.Equal(TcpFlags.Syn, view.Flags);
        Assert.Equal(40, view.HeaderLength);
        Assert.Equal(64240, view.Window);
        Assert.Equal(0x4990, view.Checksum);
        Assert.Equal(20, view.OptionBytes.Length);
        Assert.True(view.Payload.IsEmpty);
    }

    [Fact]
    public void Parses_header_and_options()
    {
        Assert.Equal(TcpParseError.None, TcpHeader.TryParse(SynBytes, out var header, out int length));
        Assert.Equal(40, length);
        Assert.Equal(SynHeader, header);
    }

    [Fact]
    public void Constructs_segment_that_parses_back_with_valid_checksum()
    {
        var segment = new byte[SynHeader.Length + 5];
        SynHeader.Emit(segment);
        "hello"u8.CopyTo(segment.AsSpan(SynHeader.Length));
        TcpHeader.WriteChecksum(segment, Src, Dst);
        Assert.True(TcpHeader.VerifyChecksum(segment, Src, Dst));
        Assert.Equal(TcpParseError.None, TcpHeader.TryParse(segment, out var parsed, out int offset));
        Assert.Equal(SynHeader, parsed);
        Assert.Equal("hello"u8.ToArray(), segment[offset..]);
    }

    [Fact]
    public void Emits_kernel_vector_checksum()
    {
        Assert.True(TcpHeader.VerifyChecksum(SynBytes, Src, Dst));
        var copy = (byte[])SynBytes.Clone();
        TcpHeader.WriteChecksum(copy, Src, Dst);
        Assert.Equal(SynBytes, copy);
    }

    [Fact]
    public void Rejects_every_truncation()
    {
        for (int n = 0; n < SynBytes.Length; n++)
        {
            var error = TcpHeader.TryParse(SynBytes.AsSpan(0, n), out _, out _);
            Assert.Equal(TcpParseError.Truncated, error);
        }
    }

    [Fact]
    public void Treats_trailing_bytes_as_payload()
    {
        var withData = SynBytes.Concat(new byte[] { 1, 2, 3 }).ToArray();
        Assert.Equal(TcpParseError.None, TcpSegmentView.TryCreate(withData, out var view));
        Assert.Equal(new byte[] { 1, 2, 3 }, view.Payload.ToArray());
    }

    [Fact]
    public void Detects_corrupted_checksum()
    {
        var copy = (byte[])SynBytes.Clone();
        copy[5] ^= 0x01;
        Assert.False(TcpHeader.VerifyChecksum(copy, Src, Dst));
        Assert.False(TcpHeader.VerifyChecksum(SynBytes, Src, Ipv4Address.Parse("10.0.0.3")));
    }

    [Fact]
    public void Rejects_data_offset_below_five_words()
    {
        var copy = (byte[])SynBytes.Clone();
        copy[12] = 0x40;
        Assert.Equal(TcpParseError.BadDataOffset, TcpHeader.TryParse(copy, out _, out _));
    }

    [Fact]
    public void Sequence_numbers_compare_across_wraparound()
    {
        var high = new TcpSeqNumber(0xFFFF_FFF0);
        var wrapped = high + 0x20;
        Assert.Equal(0x10u, wrapped.Value);
        Assert.True(high < wrapped);
        Assert.Equal(0x20, wrapped - high);
        Assert.Equal(wrapped, TcpSeqNumber.Max(high, wrapped));
    }
}
