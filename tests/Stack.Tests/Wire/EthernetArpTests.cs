using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Wire;

public class EthernetHeaderTests
{
    private static readonly EthernetHeader Expected =
        new(MacAddress.Broadcast, MacAddress.Parse("46:5e:16:3d:13:ce"), (ushort)EtherType.Arp);

    private static bool Parse(ReadOnlySpan<byte> data, out EthernetHeader header, out DropReason reason)
    {
        bool ok = EthernetHeader.TryParse(data, out header);
        reason = ok ? DropReason.None : DropReason.Truncated;
        return ok;
    }

    [Fact]
    public void Deconstruct() => Assert.Equal(Expected, Parse(Captures.ArpRequest, out var h, out _) ? h : default);

    [Fact]
    public void Construct()
    {
        var bytes = new byte[EthernetHeader.Length];
        Expected.Emit(bytes);
        Assert.Equal(Captures.ArpRequest[..EthernetHeader.Length], bytes);
    }

    [Fact]
    public void Truncated() => Assert.False(EthernetHeader.TryParse(Captures.ArpRequest.AsSpan(0, 13), out _));

    [Fact]
    public void Parse_three_ways() => FeedThreeWays.Check(Captures.ArpRequest, Parse, Expected, EthernetHeader.Length);

    [Fact]
    public void Emit_round_trips()
    {
        var h = new EthernetHeader(MacAddress.Parse("02:00:00:00:00:01"), MacAddress.Parse("02:00:00:00:00:02"), (ushort)EtherType.Ipv4);
        var bytes = new byte[EthernetHeader.Length];
        h.Emit(bytes);
        Assert.True(EthernetHeader.TryParse(bytes, out var back));
        Assert.Equal(h, back);
    }

    [Fact]
    public void Mac_addresses_parse_and_print()
    {
        Assert.Equal("46:5e:16:3d:13:ce", MacAddress.Parse("46-5E-16-3D-13-CE").ToString());
        Assert.False(MacAddress.TryParse("46:5e:16:3d:13", out _));
        Assert.True(MacAddress.Parse("01:00:5e:00:00:01").IsMulticast);
        var random = MacAddress.LocallyAdministered([0xFF, 1, 2, 3, 4, 5]);
        Assert.False(random.IsMulticast);
        Assert.Equal("fe:01:02:03:04:05", random.ToString());
    }
}

public class ArpPacketTests
{
    private static readonly ArpPacket Expected = new(ArpOperation.Request,
        MacAddress.Parse("46:5e:16:3d:13:ce"), Ipv4Address.Parse("192.0.2.1"), MacAddress.Zero, Ipv4Address.Parse("192.0.2.9"));

    private static byte[] Vector => Captures.ArpRequest[EthernetHeader.Length..];

    [Fact]
    public void Deconstruct()
    {
        Assert.True(ArpPacket.TryParse(Vector, out var arp, out _));
        Assert.Equal(Expected, arp);
    }

    [Fact]
    public void Construct()
    {
        var bytes = new byte[ArpPacket.Length];
        Expected.Emit(bytes);
        Assert.Equal(Vector, bytes);
    }

    [Fact]
    public void Truncated()
    {
        Assert.False(ArpPacket.TryParse(Vector.AsSpan(0, 27), out _, out var reason));
        Assert.Equal(DropReason.Truncated, reason);
    }

    [Fact]
    public void Parse_three_ways() => FeedThreeWays.Check(Vector, ArpPacket.TryParse, Expected);

    [Fact]
    public void Emit_round_trips()
    {
        var reply = Expected with { Operation = ArpOperation.Reply, TargetHardware = MacAddress.Parse("02:00:00:00:00:09") };
        var bytes = new byte[ArpPacket.Length];
        reply.Emit(bytes);
        Assert.True(ArpPacket.TryParse(bytes, out var back, out _));
        Assert.Equal(reply, back);
    }

    [Theory]
    [InlineData(1, 6)]     // hardware type 6 (IEEE 802) instead of 1
    [InlineData(2, 0x86)]  // protocol IPv6
    [InlineData(4, 8)]     // hardware length 8
    [InlineData(7, 9)]     // operation 9
    public void Other_hardware_protocols_and_operations_are_unsupported(int offset, byte value)
    {
        var bytes = Vector;
        bytes[offset] = value;
        Assert.False(ArpPacket.TryParse(bytes, out _, out var reason));
        Assert.Equal(DropReason.Unsupported, reason);
    }
}
