using Apps.Conduit.Endpoints;

namespace Apps.Conduit.Tests;

public sealed class EndpointTests
{
    [Theory]
    [InlineData("tcp://example.org:80", EndpointScheme.Tcp, "example.org", 80)]
    [InlineData("tls://Example.ORG:443/", EndpointScheme.Tls, "example.org", 443)]
    [InlineData("tls://127.0.0.1:8443", EndpointScheme.Tls, "127.0.0.1", 8443)]
    [InlineData("tcp://[::1]:7", EndpointScheme.Tcp, "::1", 7)]
    [InlineData("tls://[2001:db8::1]:443", EndpointScheme.Tls, "2001:db8::1", 443)]
    [InlineData("xmpp://jabber.example", EndpointScheme.Xmpp, "jabber.example", 5222)]
    [InlineData("xmpp://jabber.example:5223", EndpointScheme.Xmpp, "jabber.example", 5223)]
    public void Parses_valid_endpoints(string text, EndpointScheme scheme, string host, int port)
    {
        var endpoint = ConduitEndpoint.Parse(text);

        Assert.Equal((scheme, host, port), (endpoint.Scheme, endpoint.Host, endpoint.Port));
        Assert.Equal(text == "xmpp://jabber.example", endpoint.UseSrv);
    }

    [Theory]
    [InlineData("example.org:80", "has no scheme")]
    [InlineData("http://example.org:80", "unknown scheme")]
    [InlineData("tcp://example.org", "needs a port")]
    [InlineData("tcp://example.org:65536", "is not a port number")]
    [InlineData("tcp://example.org:-1", "is not a port number")]
    [InlineData("tcp://::1:80", "put an IPv6 address in brackets")]
    [InlineData("tcp://[::1", "bracketed host")]
    [InlineData("tcp://[1.2.3.4]:80", "bracketed host")]
    [InlineData("tcp://exa mple.org:80", "is not a host name")]
    [InlineData("tcp://-bad.org:80", "is not a host name")]
    [InlineData("", "an endpoint is")]
    public void Refuses_malformed_endpoints_with_a_reason(string text, string reason)
    {
        Assert.False(ConduitEndpoint.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Refuses_overlong_text()
    {
        Assert.False(ConduitEndpoint.TryParse("tcp://" + new string('a', 400) + ":1", out _, out _));
    }

    [Theory]
    [InlineData("tcp://[::1]:7")]
    [InlineData("tls://example.org:443")]
    public void Round_trips_through_text(string text)
    {
        Assert.Equal(text, ConduitEndpoint.Parse(text).ToString());
    }
}
