using Apps.TrustStore.Policy;

namespace Apps.TrustStore.Tests;

public class HostPortTests
{
    [Theory]
    [InlineData("Chat.Example.ORG.", "chat.example.org", null)]
    [InlineData("chat.example.org:5222", "chat.example.org", 5222)]
    [InlineData("[::1]:443", "::1", 443)]
    [InlineData("[0:0::1]", "::1", null)]
    [InlineData("127.0.0.1:8443", "127.0.0.1", 8443)]
    public void Parses_host_and_optional_port(string text, string host, int? port)
    {
        Assert.Equal((host, port), HostPort.ParsePattern(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("host:http")]
    [InlineData("[::1")]
    [InlineData("ho st")]
    [InlineData("bad/host")]
    public void Rejects_malformed_servers(string text)
    {
        Assert.Throws<FormatException>(() => HostPort.ParsePattern(text));
    }

    [Fact]
    public void Ipv6_keys_use_brackets()
    {
        Assert.Equal("[::1]:443", HostPort.Create("::1", 443).ToString());
        Assert.Equal("a.example:1", HostPort.Create("A.example", 1).ToString());
    }

    [Fact]
    public void Overlong_host_is_rejected()
    {
        Assert.Throws<FormatException>(() => HostPort.NormalizeHost(new string('a', 254)));
    }
}
