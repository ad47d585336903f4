using Apps.Conduit.Dns;
using Apps.Conduit.Endpoints;
using Apps.Conduit.Transports;
using Apps.Stack.Wire;
using Apps.TestSupport;

namespace Apps.Conduit.Tests;

/// <summary>Names resolved over our own stack: dnsmasq in a namespace the test creates hands out the lease (with
/// itself as DNS server, RFC 2132 §3.8) and answers A, CNAME and SRV questions over UDP and TCP.</summary>
public sealed class StackDnsTests(EntropyFixture entropy) : IClassFixture<EntropyFixture>
{
    [Fact]
    public async Task Our_stack_resolves_names_from_the_dhcp_leases_dns_server_and_connects_by_name()
    {
        var suffix = LinuxNamespace.UniqueSuffix();
        var device = "adn" + suffix;
        Assert.True(TransportSpec.TryParse($"tap:{device},ip=dhcp", out var spec, out var error), error);
        var opening = StackTransport.OpenAsync(spec, entropy.Runtime.Fortuna.Fill);
        for (var i = 0; i < 300 && !opening.IsCompleted && (await LinuxNamespace.RunAsync("ip", "link", "show", device)).ExitCode != 0; i++)
        {
            await Task.Delay(100); // the transport creates the device, then waits for a lease
        }

        await using var ns = await LinuxNamespace.AdoptAsync("apps-sdns-" + suffix, device, "10.83.0.1/24");
        var bigZone = Enumerable.Range(0, 40).Select(i => $"--srv-host=_xmpp-client._tcp.big.test,server-number-{i:00}.big.test,{5000 + i},{i % 4},{i}");
        ns.Start(["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--user=root", "--pid-file=", "--interface=" + device, "--bind-interfaces",
            "--dhcp-range=10.83.0.50,10.83.0.60,255.255.255.0,1h", "--dhcp-leasefile=/dev/null", "--no-resolv", "--no-hosts", "--local=/test/",
            "--host-record=web.test,10.83.0.1", "--cname=www.test,web.test", .. bigZone]);
        ns.Start("socat", "TCP-LISTEN:7000,bind=10.83.0.1,reuseaddr,fork", "EXEC:/bin/echo hello-by-name");
        await using var transport = await opening.WaitAsync(TimeSpan.FromSeconds(90));
        await using var network = new ConduitNetwork(new ConduitOptions { Transport = transport, Resolver = transport.Resolver });

        ConduitConnection? connection = null;
        for (var attempt = 0; connection is null; attempt++)
        {
            try
            {
                connection = await network.ConnectAsync(ConduitEndpoint.Parse("tcp://www.test:7000"));
            }
            catch (ConduitException) when (attempt < 100)
            {
                await Task.Delay(100); // socat is still starting
            }
        }

        string greeting;
        await using (connection)
        {
            greeting = await new StreamReader(connection.AsStream()).ReadToEndAsync();
        }

        var big = await transport.Resolver.QuerySrvAsync("_xmpp-client._tcp.big.test");
        var missing = await Assert.ThrowsAsync<ConduitException>(() => network.ConnectAsync(ConduitEndpoint.Parse("tcp://missing.test:7000")));

        Assert.Equal([Ipv4Address.Parse("10.83.0.1")], transport.Stack.Lease!.DnsServers);
        Assert.Equal("hello-by-name\n", greeting);
        Assert.Equal("10.83.0.1:7000", connection.RemoteEndPoint?.ToString());
        Assert.Equal(40, big.Count); // too big for UDP: asked again over TCP on our stack
        Assert.Contains(new SrvRecord(3, 39, 5039, "server-number-39.big.test"), big);
        Assert.Equal("missing.test has no IPv4 address in DNS (our stack has no IPv6 yet); check the name", missing.Message);
    }

    [Fact]
    public async Task Without_a_dns_server_a_name_fails_with_a_reason_and_a_literal_still_works()
    {
        var suffix = LinuxNamespace.UniqueSuffix();
        var device = "adn" + suffix;
        Assert.True(TransportSpec.TryParse($"tap:{device},ip=10.84.0.2/24", out var spec, out _));
        await using var transport = await StackTransport.OpenAsync(spec, entropy.Runtime.Fortuna.Fill);
        await using var ns = await LinuxNamespace.AdoptAsync("apps-sdns-" + suffix, device, "10.84.0.1/24");
        ns.Start("socat", "TCP-LISTEN:7001,bind=10.84.0.1,reuseaddr,fork", "EXEC:/bin/echo hello-by-address");

        var noServer = await Assert.ThrowsAsync<ConduitException>(() => transport.ConnectAsync("web.test", 7001));
        ConduitConnection? connection = null;
        for (var attempt = 0; connection is null; attempt++)
        {
            try
            {
                connection = await transport.ConnectAsync("10.84.0.1", 7001);
            }
            catch (ConduitException) when (attempt < 100)
            {
                await Task.Delay(100); // socat is still starting
            }
        }

        await using (connection)
        {
            Assert.Equal("hello-by-address\n", await new StreamReader(connection.AsStream()).ReadToEndAsync());
        }

        Assert.Equal($"cannot resolve web.test over tap:{device}: no DNS server is known; add dns=ADDR to --stack, or use ip=dhcp with a DHCP server that names one", noServer.Message);
    }

    [Theory]
    [InlineData("tap:t0,ip=dhcp,dns=10.0.0.53", "10.0.0.53")]
    [InlineData("tap:t0,ip=10.0.0.2/24,gw=10.0.0.1,dns=10.0.0.1", "10.0.0.1")]
    [InlineData("tap:t0,ip=10.0.0.2/24", null)]
    public void Parses_the_dns_server_setting(string text, string? server)
    {
        Assert.True(TransportSpec.TryParse(text, out var spec, out var error), error);
        Assert.Equal(server, spec.DnsServer?.ToString());
    }

    [Theory]
    [InlineData("tap:t0,ip=dhcp,dns=")]
    [InlineData("tap:t0,ip=dhcp,dns=fe80::1")]
    [InlineData("tap:t0,ip=dhcp,dns=dns.example")]
    public void Refuses_a_dns_server_that_is_not_ipv4(string text)
    {
        Assert.False(TransportSpec.TryParse(text, out _, out var error));
        Assert.Contains("is not an IPv4 address", error);
    }
}
