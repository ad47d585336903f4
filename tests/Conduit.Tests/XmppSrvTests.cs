using System.Diagnostics;
using System.Net;
using Apps.Conduit.Dns;
using Apps.Conduit.Endpoints;
using Apps.Conduit.Transports;
using Apps.Conduit.Trust;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Verification;
using Apps.TrustStore.Store;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Conduit.Tests;

/// <summary>xmpp://domain against dnsmasq as a real DNS server (XEP-0368 and RFC 6120 §3.2), and hostile answers
/// through a real UDP exchange.</summary>
public sealed class XmppSrvTests(EntropyFixture entropy) : IClassFixture<EntropyFixture>, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("conduit-srv-");

    public void Dispose() => _directory.Delete(recursive: true);

    private ConduitNetwork Network(IPEndPoint dns, PinStore? store = null) => new(new ConduitOptions
    {
        Random = entropy.Runtime.CreateSecureRandom(),
        Resolver = new DnsResolver(entropy.Runtime.CreateSecureRandom(), dns, TimeSpan.FromSeconds(5)),
        Trust = store is null ? null : new ServerTrust { Verifier = StrictCertificateVerifier.WithSystemRoots(), Store = store, Service = "xmpp-client" },
    });

    private TlsServerOptions ServerTls(string domain) => new()
    {
        Random = entropy.Runtime.CreateSecureRandom(),
        Credentials = new ServerCredentialSet(ApplianceCertificate.Create([domain], DateTimeOffset.UtcNow, entropy.Runtime.CreateSecureRandom()).Credential),
        ApplicationProtocols = [XmppTargets.AlpnProtocol],
    };

    [Fact]
    public async Task Direct_tls_target_with_the_best_priority_is_used_with_sni_alpn_and_pin_for_the_domain()
    {
        using var store = PinStore.Open(Path.Combine(_directory.FullName, "trust.db"));
        await using var setup = Network(new IPEndPoint(IPAddress.Loopback, 53));
        await using var tlsListener = await setup.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), ServerTls("example.test"));
        await using var plainListener = await setup.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0));
        await using var dns = await Dnsmasq.StartAsync(entropy.Runtime.CreateSecureRandom(),
            $"_xmpps-client._tcp.example.test,127.0.0.1,{tlsListener.LocalEndPoint.Port},0,1",
            $"_xmpp-client._tcp.example.test,127.0.0.1,{plainListener.LocalEndPoint.Port},10,1");
        await using var network = Network(dns.EndPoint, store);

        var accepting = tlsListener.AcceptAsync().AsTask();
        await using var client = await network.ConnectAsync(ConduitEndpoint.Parse("xmpp://example.test"));
        await using var accepted = await accepting;

        Assert.Equal(new ConnectTarget("127.0.0.1", tlsListener.LocalEndPoint.Port, TargetSecurity.DirectTls, FromSrv: true), client.Target);
        Assert.Equal("xmpp-client", client.Tls!.ApplicationProtocol);
        Assert.Equal("example.test", accepted!.Tls!.ServerName);
        Assert.Single(store.PinsFor("example.test", 5222));
    }

    [Fact]
    public async Task Unreachable_direct_tls_target_gives_way_to_the_starttls_target_which_comes_back_plain()
    {
        await using var setup = Network(new IPEndPoint(IPAddress.Loopback, 53));
        await using var plainListener = await setup.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0));
        await using var dns = await Dnsmasq.StartAsync(entropy.Runtime.CreateSecureRandom(),
            $"_xmpps-client._tcp.example.test,127.0.0.1,{TestPeers.FreePort()},0,1",
            $"_xmpp-client._tcp.example.test,127.0.0.1,{plainListener.LocalEndPoint.Port},5,1");
        await using var network = Network(dns.EndPoint);

        var accepting = plainListener.AcceptAsync().AsTask();
        await using var client = await network.ConnectAsync(ConduitEndpoint.Parse("xmpp://example.test"));
        await using var accepted = await accepting;

        Assert.Equal(TargetSecurity.StartTls, client.Target!.Security);
        Assert.Equal(plainListener.LocalEndPoint.Port, client.Target.Port);
        Assert.Null(client.Tls);
    }

    [Fact]
    public async Task Domain_without_srv_records_falls_back_to_itself_on_5222_with_starttls()
    {
        await using var dns = await Dnsmasq.StartAsync(entropy.Runtime.CreateSecureRandom());
        await using var network = Network(dns.EndPoint);

        var plan = await network.ResolveXmppAsync(ConduitEndpoint.Parse("xmpp://nosrv.test"));

        Assert.Equal([new ConnectTarget("nosrv.test", 5222, TargetSecurity.StartTls)], plan.Targets);
    }

    [Fact]
    public async Task Dot_targets_refuse_the_domain_and_a_dot_for_direct_tls_alone_leaves_starttls()
    {
        await using var setup = Network(new IPEndPoint(IPAddress.Loopback, 53));
        await using var plainListener = await setup.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0));
        await using var dns = await Dnsmasq.StartAsync(entropy.Runtime.CreateSecureRandom(),
            "_xmpps-client._tcp.gone.test", "_xmpp-client._tcp.gone.test",
            "_xmpps-client._tcp.half.test", $"_xmpp-client._tcp.half.test,127.0.0.1,{plainListener.LocalEndPoint.Port}");
        await using var network = Network(dns.EndPoint);

        var refused = await Assert.ThrowsAsync<ConduitException>(() => network.ConnectAsync(ConduitEndpoint.Parse("xmpp://gone.test")));
        var half = await network.ResolveXmppAsync(ConduitEndpoint.Parse("xmpp://half.test"));

        Assert.Contains("gone.test says in DNS that it offers no XMPP client service", refused.Message);
        Assert.Equal([new ConnectTarget("127.0.0.1", plainListener.LocalEndPoint.Port, TargetSecurity.StartTls, true)], half.Targets);
    }

    [Fact]
    public async Task Answer_too_big_for_udp_is_asked_again_over_tcp()
    {
        var records = Enumerable.Range(0, 40).Select(i => $"_xmpp-client._tcp.big.test,server-number-{i:00}.big.test,{5000 + i},{i % 4},{i}").ToArray();
        await using var dns = await Dnsmasq.StartAsync(entropy.Runtime.CreateSecureRandom(), records);
        var resolver = new DnsResolver(entropy.Runtime.CreateSecureRandom(), dns.EndPoint, TimeSpan.FromSeconds(30));

        var answered = await resolver.QuerySrvAsync("_xmpp-client._tcp.big.test");

        Assert.Equal(40, answered.Count);
        Assert.Equal(Enumerable.Range(5000, 40), answered.Select(r => (int)r.Port).Order());
        Assert.Contains(new SrvRecord(3, 39, 5039, "server-number-39.big.test"), answered);
    }

    [Fact]
    public async Task Resolver_ignores_a_spoofed_answer_and_takes_the_one_to_its_query()
    {
        using var server = new ScriptedDnsServer((id, name) =>
        [
            DnsBytes.ResponseTo((ushort)(id ^ 0x5555), name, 1).Srv(0, 0, 1, "evil.test").ToArray(),
            DnsBytes.ResponseTo(id, name, 1).Srv(0, 0, 5222, "good.test").ToArray(),
        ]);
        var resolver = new DnsResolver(entropy.Runtime.CreateSecureRandom(), server.EndPoint, TimeSpan.FromSeconds(30));

        var records = await resolver.QuerySrvAsync("_xmpp-client._tcp.example.test");

        Assert.Equal([new SrvRecord(0, 0, 5222, "good.test")], records);
    }

    [Fact]
    public async Task Hostile_answers_are_refused_and_the_endpoint_falls_back_as_if_there_were_none()
    {
        using var server = new ScriptedDnsServer((id, name) =>
        {
            var response = DnsBytes.ResponseTo(id, name, 1);
            return [response.Srv(DnsBytes.Pointer(response.Length), 0, 0, 1, DnsBytes.Name("x")).ToArray()]; // owner points at itself
        });
        var resolver = new DnsResolver(entropy.Runtime.CreateSecureRandom(), server.EndPoint, TimeSpan.FromSeconds(30));
        await using var network = Network(server.EndPoint);
        using var source = new ActivitySource("Apps.Conduit.Tests.Srv");
        using var outer = new ActivityListener { ShouldListenTo = s => s == source, Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded };
        ActivitySource.AddActivityListener(outer);

        var failure = await Assert.ThrowsAsync<DnsFormatException>(() => resolver.QuerySrvAsync("_xmpp-client._tcp.example.test"));
        XmppTargets plan;
        Activity span;
        using (span = source.StartActivity("resolve")!)
        {
            plan = await network.ResolveXmppAsync(ConduitEndpoint.Parse("xmpp://example.test"));
        }

        Assert.Contains("compression pointer", failure.Message);
        Assert.Equal([new ConnectTarget("example.test", 5222, TargetSecurity.StartTls)], plan.Targets);
        Assert.Equal(2, span.Events.Count(e => e.Name == "conduit.srv_failed"));
    }

    [Fact]
    public async Task Silent_server_times_out_with_a_one_line_reason()
    {
        using var server = new ScriptedDnsServer((_, _) => []);
        var time = new FakeTimeProvider();
        var resolver = new DnsResolver(entropy.Runtime.CreateSecureRandom(), server.EndPoint, TimeSpan.FromSeconds(3), time);

        var query = resolver.QuerySrvAsync("_xmpp-client._tcp.example.test");
        time.Advance(TimeSpan.FromSeconds(3));
        var failure = await Assert.ThrowsAsync<TimeoutException>(() => query.WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal($"the DNS server {server.EndPoint} did not answer for _xmpp-client._tcp.example.test within 3s", failure.Message);
    }
}
