using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Wire;

public class Ipv4HeaderTests
{
    private static byte[] Vector => Captures.IcmpEchoRequest[EthernetHeader.Length..];

    private static readonly Ipv4Header Expected = new(0, 36, 0xebab, DontFragment: true, MoreFragments: false, 0, 64, IpProtocol.Icmp,
        Ipv4Address.Parse("192.0.2.1"), Ipv4Address.Parse("192.0.2.2"));

    [Fact]
    public void Deconstruct()
    {
        Assert.True(Ipv4Header.TryParse(Vector, out var ip, out _));
        Assert.Equal(Expected, ip);
        Assert.Equal(16, ip.PayloadLength);
    }

    [Fact]
    public void Construct()
    {
        var bytes = new byte[Ipv4Header.MinLength];
        Expected.Emit(bytes);
        Assert.Equal(Vector[..Ipv4Header.MinLength], bytes);
    }

    [Fact]
    public void Truncated()
    {
        Assert.False(Ipv4Header.TryParse(Vector.AsSpan(0, 35), out _, out var reason));
        Assert.Equal(DropReason.Truncated, reason);
    }

    [Fact]
    public void Parse_three_ways() => FeedThreeWays.Check(Vector, Ipv4Header.TryParse, Expected);

    [Fact]
    public void Emit_round_trips_fragment_fields()
    {
        var h = Expected with { DontFragment = false, MoreFragments = true, FragmentOffset = 1480, TotalLength = 1500, Protocol = IpProtocol.Udp };
        var bytes = new byte[1500];
        h.Emit(bytes);
        Assert.True(Ipv4Header.TryParse(bytes, out var back, out _));
        Assert.Equal(h, back);
        Assert.True(back.IsFragment);
    }

    [Fact]
    public void Options_are_skipped_within_the_header_length()
    {
        // Same header with IHL 6 and one word of options (NOP NOP NOP EOL); checksum recomputed.
        var v = Vector;
        var bytes = new byte[v.Length + 4];
        v.AsSpan(0, 20).CopyTo(bytes);
        bytes[0] = 0x46;
        bytes[3] = (byte)(v.Length + 4);
        bytes[20] = 1; bytes[21] = 1; bytes[22] = 1; bytes[23] = 0;
        v.AsSpan(20).CopyTo(bytes.AsSpan(24));
        bytes[10] = 0; bytes[11] = 0;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(10), InternetChecksum.Compute(bytes.AsSpan(0, 24)));

        Assert.True(Ipv4Header.TryParse(bytes, out var ip, out _));
        Assert.Equal(24, ip.HeaderLength);
        Assert.Equal(16, ip.PayloadLength);
    }

    [Theory]
    [InlineData(0, 0x65, DropReason.Malformed)]    // version 6
    [InlineData(0, 0x44, DropReason.Malformed)]    // IHL 4 (< 5 words)
    [InlineData(0, 0x4F, DropReason.Malformed)]    // IHL 15: 60 bytes, more than the total length
    [InlineData(3, 0x10, DropReason.Malformed)]    // total length 16 < header length
    [InlineData(3, 0xFF, DropReason.Truncated)]    // total length 255 > bytes given
    [InlineData(10, 0x00, DropReason.BadChecksum)] // checksum damaged
    [InlineData(6, 0xC0, DropReason.Malformed)]    // reserved flag set
    public void Malformed_headers_are_refused_with_a_reason(int offset, byte value, DropReason expected)
    {
        var bytes = Vector;
        bytes[offset] = value;
        if (offset != 10 && expected != DropReason.BadChecksum)
        {
            bytes[10] = 0; bytes[11] = 0;
            int hl = Math.Min((bytes[0] & 0xF) * 4, bytes.Length);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(10), InternetChecksum.Compute(bytes.AsSpan(0, Math.Max(20, hl))));
        }
        Assert.False(Ipv4Header.TryParse(bytes, out _, out var reason));
        Assert.Equal(expected, reason);
    }
}

public class IcmpV4HeaderTests
{
    private static byte[] Vector => Captures.IcmpEchoRequest[(EthernetHeader.Length + Ipv4Header.MinLength)..];

    private static readonly IcmpV4Header Expected = IcmpV4Header.Echo(IcmpV4Type.EchoRequest, 0x23f9, 1);

    [Fact]
    public void Deconstruct()
    {
        Assert.True(IcmpV4Header.TryParse(Vector, out var icmp, out _));
        Assert.Equal(Expected, icmp);
        Assert.Equal(0x23f9, icmp.Identifier);
        Assert.Equal(1, icmp.SequenceNumber);
    }

    [Fact]
    public void Construct()
    {
        var bytes = Vector;
        bytes.AsSpan(0, 8).Clear();
        Expected.Emit(bytes);
        Assert.Equal(Vector, bytes);
    }

    [Fact]
    public void Truncated()
    {
        Assert.False(IcmpV4Header.TryParse(Vector.AsSpan(0, 7), out _, out var reason));
        Assert.Equal(DropReason.Truncated, reason);
    }

    // ICMP has no length field: the IP layer bounds the message and the checksum covers all of it,
    // so trailing data is not part of the three-way feed here. Prefixes shorter than the header are
    // truncated; longer ones are judged by the checksum (dropping trailing zero bytes keeps it valid).
    [Fact]
    public void Parse_whole_and_every_prefix()
    {
        var v = Vector;
        Assert.True(IcmpV4Header.TryParse(v, out var whole, out _));
        Assert.Equal(Expected, whole);
        for (int n = 0; n < v.Length; n++)
        {
            bool ok = IcmpV4Header.TryParse(v.AsSpan(0, n), out _, out var reason);
            if (n < IcmpV4Header.Length)
                Assert.Equal(DropReason.Truncated, reason);
            else if (!ok)
                Assert.Equal(DropReason.BadChecksum, reason);
        }
        Assert.False(IcmpV4Header.TryParse(v.AsSpan(0, 10), out _, out var cut));
        Assert.Equal(DropReason.BadChecksum, cut);
    }

    [Fact]
    public void Emit_round_trips()
    {
        var message = new byte[8 + 28];
        var h = new IcmpV4Header(IcmpV4Type.DestinationUnreachable, IcmpV4UnreachableCode.Port, 0);
        h.Emit(message);
        Assert.True(IcmpV4Header.TryParse(message, out var back, out _));
        Assert.Equal(h, back);
    }
}

public class UdpHeaderTests
{
    private static readonly Ipv4Address Src = Ipv4Address.Parse("192.0.2.1");
    private static readonly Ipv4Address Dst = Ipv4Address.Parse("192.0.2.2");
    private static byte[] Vector => Captures.UdpDatagram[(EthernetHeader.Length + Ipv4Header.MinLength)..];
    private static readonly UdpHeader Expected = new(4000, 5353, 11);

    private static bool Parse(ReadOnlySpan<byte> d, out UdpHeader h, out DropReason r) => UdpHeader.TryParse(d, Src, Dst, out h, out r);

    [Fact]
    public void Deconstruct()
    {
        Assert.True(Parse(Vector, out var udp, out _));
        Assert.Equal(Expected, udp);
        Assert.Equal("hi!"u8.ToArray(), Vector[8..]);
    }

    [Fact]
    public void Construct()
    {
        var bytes = new byte[11];
        "hi!"u8.CopyTo(bytes.AsSpan(8));
        Expected.Emit(bytes, Src, Dst);
        Assert.Equal(Vector, bytes);
    }

    [Fact]
    public void Truncated()
    {
        Assert.False(Parse(Vector.AsSpan(0, 10), out _, out var reason));
        Assert.Equal(DropReason.Truncated, reason);
    }

    [Fact]
    public void Parse_three_ways() => FeedThreeWays.Check(Vector, Parse, Expected);

    [Fact]
    public void Emit_round_trips_and_zero_checksum_is_sent_as_ffff()
    {
        var bytes = new byte[8];
        new UdpHeader(1, 2, 8).Emit(bytes, Src, Dst);
        Assert.True(Parse(bytes, out var back, out _));
        Assert.Equal(new UdpHeader(1, 2, 8), back);
        Assert.NotEqual(0, bytes[6] | bytes[7]);
    }

    [Fact]
    public void Wrong_pseudo_header_fails_the_checksum_and_zero_checksum_is_accepted()
    {
        Assert.False(UdpHeader.TryParse(Vector, Src, Ipv4Address.Parse("192.0.2.3"), out _, out var reason));
        Assert.Equal(DropReason.BadChecksum, reason);
        var unchecked_ = Vector;
        unchecked_[6] = 0;
        unchecked_[7] = 0;
        Assert.True(UdpHeader.TryParse(unchecked_, Src, Ipv4Address.Parse("192.0.2.3"), out _, out _));
    }

    [Fact]
    public void Length_below_header_is_malformed()
    {
        var v = Vector;
        v[5] = 7;
        Assert.False(Parse(v, out _, out var reason));
        Assert.Equal(DropReason.Malformed, reason);
    }
}
