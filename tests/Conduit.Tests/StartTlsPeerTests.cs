using System.Diagnostics;
using System.Net;
using System.Text;
using Apps.Conduit.Dns;
using Apps.Conduit.Endpoints;
using Apps.Conduit.Transports;
using Apps.Conduit.Trust;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Verification;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.Conduit.Tests;

/// <summary>STARTTLS and direct TLS against real XMPP peers: Prosody as the server for our client (with TOFU
/// pinning), and <c>openssl s_client -starttls xmpp</c> as the client for our server side.</summary>
public sealed class StartTlsPeerTests(EntropyFixture entropy) : IClassFixture<EntropyFixture>, IDisposable
{
    private const string Domain = "example.test";
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("conduit-starttls-");

    public void Dispose() => _directory.Delete(recursive: true);

    private async Task<(string Certificate, string Key)> CertificateAsync(string name)
    {
        var key = Path.Combine(_directory.FullName, name + ".key");
        var certificate = Path.Combine(_directory.FullName, name + ".pem");
        var (code, output) = await TestPeers.RunAsync("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=" + Domain, "-addext", "subjectAltName=DNS:" + Domain);
        Assert.True(code == 0, output);
        return (certificate, key);
    }

    private ConduitNetwork Network(PinStore store, IPEndPoint? dns = null) => new(new ConduitOptions
    {
        Random = entropy.Runtime.CreateSecureRandom(),
        Trust = new ServerTrust { Verifier = StrictCertificateVerifier.WithSystemRoots(), Store = store, Service = "xmpp-client" },
        Resolver = dns is null ? null : new DnsResolver(entropy.Runtime.CreateSecureRandom(), dns, TimeSpan.FromSeconds(5)),
    });

    /// <summary>Connects plain to the STARTTLS port, negotiates STARTTLS as RFC 6120 §5.4 says, and upgrades.</summary>
    private static async Task<ConduitConnection> StartTlsAsync(ConduitNetwork network, int port)
    {
        var plain = await network.ConnectAsync(ConduitEndpoint.Parse($"xmpp://127.0.0.1:{port}"));
        Assert.Equal(TargetSecurity.StartTls, plain.Target!.Security);
        Assert.Contains($"<starttls xmlns='{XmppStream.TlsNamespace}'", (await XmppStream.OpenAsync(plain, Domain)).Replace('"', '\''));
        await XmppStream.RequestStartTlsAsync(plain);
        return await network.StartTlsAsync(plain, Domain, ConduitEndpoint.XmppClientPort);
    }

    [Fact]
    public async Task Starttls_with_prosody_pins_on_first_use_and_refuses_a_changed_key_naming_both_fingerprints()
    {
        var first = await CertificateAsync("first");
        var second = await CertificateAsync("second");
        using var store = PinStore.Open(Path.Combine(_directory.FullName, "trust.db"));
        await using var network = Network(store);

        await using (var prosody = await Prosody.StartAsync(_directory.FullName, Domain, first.Certificate, first.Key))
        {
            await using var secured = await StartTlsAsync(network, prosody.StartTlsPort);
            var features = await XmppStream.OpenAsync(secured, Domain);

            Assert.NotNull(secured.Tls);
            Assert.Contains("<mechanisms", features); // SASL is offered once the stream is encrypted
            Assert.DoesNotContain("<starttls", features);
            Assert.Equal(TestPeers.Fingerprint(first.Certificate), Assert.Single(store.PinsFor(Domain, ConduitEndpoint.XmppClientPort)).Spki.ToString());
        }

        await using (var prosody = await Prosody.StartAsync(_directory.FullName, Domain, second.Certificate, second.Key))
        {
            var refused = await Assert.ThrowsAsync<ConduitTrustException>(() => StartTlsAsync(network, prosody.StartTlsPort));

            Assert.Equal(RejectReason.KeyChanged, refused.Reason);
            Assert.Contains(TestPeers.Fingerprint(first.Certificate), refused.Message);
            Assert.Contains(TestPeers.Fingerprint(second.Certificate), refused.Message);
            Assert.DoesNotContain("\n", refused.Message);
            Assert.Single(store.PinsFor(Domain, ConduitEndpoint.XmppClientPort));
        }
    }

    [Fact]
    public async Task Xmpps_srv_target_reaches_prosody_with_direct_tls_and_shares_its_pin_with_starttls()
    {
        var certificate = await CertificateAsync("direct");
        using var store = PinStore.Open(Path.Combine(_directory.FullName, "direct.db"));
        await using var prosody = await Prosody.StartAsync(_directory.FullName, Domain, certificate.Certificate, certificate.Key);
        await using var dns = await Dnsmasq.StartAsync(entropy.Runtime.CreateSecureRandom(),
            $"_xmpps-client._tcp.{Domain},127.0.0.1,{prosody.DirectTlsPort},0,1",
            $"_xmpp-client._tcp.{Domain},127.0.0.1,{prosody.StartTlsPort},10,1");
        await using var network = Network(store, dns.EndPoint);

        await using (var direct = await network.ConnectAsync(ConduitEndpoint.Parse("xmpp://" + Domain)))
        {
            var features = await XmppStream.OpenAsync(direct, Domain);

            Assert.Equal(new ConnectTarget("127.0.0.1", prosody.DirectTlsPort, TargetSecurity.DirectTls, FromSrv: true), direct.Target);
            Assert.NotNull(direct.Tls);
            Assert.Contains("<mechanisms", features);
        }

        await using var upgraded = await StartTlsAsync(network, prosody.StartTlsPort);

        Assert.NotNull(upgraded.Tls);
        Assert.Equal(TestPeers.Fingerprint(certificate.Certificate), Assert.Single(store.PinsFor(Domain, ConduitEndpoint.XmppClientPort)).Spki.ToString());
    }

    [Fact]
    public async Task Server_side_starttls_serves_openssl_s_client_starttls_xmpp()
    {
        await using var network = new ConduitNetwork(new ConduitOptions { Random = entropy.Runtime.CreateSecureRandom() });
        await using var listener = await network.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var tls = new TlsServerOptions
        {
            Random = entropy.Runtime.CreateSecureRandom(),
            Credentials = new ServerCredentialSet(ApplianceCertificate.Create([Domain], DateTimeOffset.UtcNow, entropy.Runtime.CreateSecureRandom()).Credential),
        };
        var server = Task.Run(async () =>
        {
            await using var plain = await listener.AcceptAsync() ?? throw new InvalidOperationException("listener stopped");
            var header = await XmppStream.ReadUntilAsync(plain, ">");
            Assert.Contains("<stream:stream", header);
            await plain.Output.WriteAsync(Encoding.UTF8.GetBytes(
                $"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='{Domain}' version='1.0'>" +
                $"<stream:features><starttls xmlns='{XmppStream.TlsNamespace}'><required/></starttls></stream:features>"));
            Assert.Contains("<starttls", await XmppStream.ReadUntilAsync(plain, "/>"));
            await plain.Output.WriteAsync(Encoding.UTF8.GetBytes($"<proceed xmlns='{XmppStream.TlsNamespace}'/>"));
            await using var secured = await network.AcceptTlsAsync(plain, tls);
            await secured.Output.WriteAsync(Encoding.UTF8.GetBytes("secret hello over starttls\n"));
            await secured.Output.CompleteAsync();
            return secured.Tls!;
        });

        var (code, output) = await TestPeers.RunAsync("openssl", "s_client", "-starttls", "xmpp", "-xmpphost", Domain,
            "-connect", $"127.0.0.1:{listener.LocalEndPoint.Port}", "-servername", Domain, "-ign_eof");
        var negotiated = await server.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(code == 0, output);
        Assert.Contains("secret hello over starttls", output);
        Assert.Contains("TLSv1.3", output);
        Assert.Equal(TlsVersion.Tls13, negotiated.Version);
        Assert.Equal(Domain, negotiated.ServerName);
    }
}
