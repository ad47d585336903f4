using System.Net;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Wire;

public class Ipv4AddressTests
{
    [Theory]
    [InlineData("0.0.0.0", 0u)]
    [InlineData("192.0.2.1", 0xC0000201u)]
    [InlineData("255.255.255.255", 0xFFFFFFFFu)]
    [InlineData("10.0.0.09", 0x0A000009u)]
    public void Parses_dotted_quad_into_host_order(string text, uint value)
    {
        Assert.Equal(value, Ipv4Address.Parse(text).Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.1.1.1")]
    [InlineData("1..2.3")]
    [InlineData("1.2.3.4 ")]
    [InlineData("1.2.3.0004")]
    [InlineData("a.b.c.d")]
    [InlineData("1.2.3.")]
    public void Rejects_anything_but_four_octets(string text)
    {
        Assert.False(Ipv4Address.TryParse(text, out _));
        Assert.Throws<FormatException>(() => Ipv4Address.Parse(text));
    }

    [Fact]
    public void Round_trips_through_text_bytes_and_IPAddress()
    {
        var address = new Ipv4Address(198, 51, 100, 7);
        Assert.Equal("198.51.100.7", address.ToString());
        Span<byte> bytes = stackalloc byte[4];
        Assert.True(address.TryWrite(bytes));
        Assert.Equal(new byte[] { 198, 51, 100, 7 }, bytes.ToArray());
        Assert.Equal(address, Ipv4Address.Read(bytes));
        Assert.Equal(IPAddress.Parse("198.51.100.7"), address.ToIPAddress());
        Assert.Equal(address, Ipv4Address.FromIPAddress(IPAddress.Parse("198.51.100.7")));
    }

    [Fact]
    public void TryWrite_refuses_short_destination()
    {
        Assert.False(Ipv4Address.Parse("1.2.3.4").TryWrite(new byte[3]));
    }

    [Fact]
    public void Subnet_checks_use_the_mask()
    {
        var mask = Ipv4Address.MaskFromPrefix(24);
        Assert.Equal("255.255.255.0", mask.ToString());
        Assert.True(Ipv4Address.Parse("10.1.2.3").IsInSameSubnet(Ipv4Address.Parse("10.1.2.200"), mask));
        Assert.False(Ipv4Address.Parse("10.1.2.3").IsInSameSubnet(Ipv4Address.Parse("10.1.3.3"), mask));
        Assert.Equal(0u, Ipv4Address.MaskFromPrefix(0).Value);
        Assert.True(Ipv4Address.Parse("224.0.0.1").IsMulticast);
        Assert.True(Ipv4Address.Broadcast.IsBroadcast);
    }

    [Fact]
    public void IPv6_addresses_are_refused_at_the_edge()
    {
        Assert.Throws<ArgumentException>(() => Ipv4Address.FromIPAddress(IPAddress.IPv6Loopback));
    }
}
