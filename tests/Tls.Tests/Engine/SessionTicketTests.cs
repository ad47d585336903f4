using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Engine;

/// <summary>TLS 1.2 session tickets (RFC 5077) between our client and server in memory.</summary>
public class SessionTicketTests
{
    private static readonly TestCertificate Certificate = TestPki.Get(ServerKeyType.EcdsaP256);

    private static TlsClientOptions ClientOptions(TlsSessionCache cache, ExpectedKeyVerifier? verifier = null, string name = "localhost") => new()
    {
        ServerName = name, Verifier = verifier ?? new ExpectedKeyVerifier(Certificate), Random = TestRandom.Create(),
        SessionCache = cache, ApplicationProtocols = ["h2", "http/1.1"],
    };

    private static TlsServerOptions ServerOptions(SessionTicketKeys keys, ServerCredentialSet? credentials = null, params string[] alpn) => new()
    {
        Credentials = credentials ?? new ServerCredentialSet(Certificate.Credential), Random = TestRandom.Create(),
        TicketKeys = keys, ApplicationProtocols = alpn.Length == 0 ? ["http/1.1"] : alpn,
    };

    private static EnginePair Connect(TlsClientOptions client, TlsServerOptions server, DateTimeOffset? clientNow = null, DateTimeOffset? serverNow = null)
    {
        var pair = new EnginePair(client, server);
        pair.Client.Now = clientNow ?? TestPki.Now;
        pair.Server.Now = serverNow ?? TestPki.Now;
        pair.Handshake();
        return pair;
    }

    [Fact]
    public void Tls12_session_resumes_from_a_ticket_with_no_state_on_the_server()
    {
        var cache = new TlsSessionCache();
        var verifier = new ExpectedKeyVerifier(Certificate);
        var server = ServerOptions(new SessionTicketKeys(TestRandom.Create()));

        var first = Connect(Tls12(ClientOptions(cache, verifier)), server);
        Assert.Equal(TlsVersion.Tls12, first.Client.Engine.Connection!.Version);
        Assert.False(first.Client.Engine.Connection.Resumed);
        Assert.NotNull(cache.FindEntry("localhost", TestPki.Now)!.Value.Ticket);

        var second = Connect(Tls12(ClientOptions(cache, verifier)), server);

        Assert.True(second.Client.Engine.Connection!.Resumed);
        Assert.True(second.Server.Engine.Connection!.Resumed);
        Assert.Equal("http/1.1", second.Server.Engine.Connection.ApplicationProtocol);
        Assert.Equal("http/1.1", second.Client.Engine.Connection.ApplicationProtocol);
        Assert.Single(verifier.Calls);
        second.Client.Write("resumed"u8.ToArray());
        EnginePair.Transfer(second.Client, second.Server);
        Assert.Equal("resumed"u8.ToArray(), second.Server.TakeReceived());
    }

    [Fact]
    public void Tls13_connections_get_no_tls12_ticket()
    {
        var cache = new TlsSessionCache();
        var pair = Connect(ClientOptions(cache), ServerOptions(new SessionTicketKeys(TestRandom.Create())));

        Assert.Equal(TlsVersion.Tls13, pair.Client.Engine.Connection!.Version);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Altered_ticket_is_refused_and_a_full_handshake_issues_a_new_one()
    {
        var cache = new TlsSessionCache();
        var server = ServerOptions(new SessionTicketKeys(TestRandom.Create()));
        Connect(Tls12(ClientOptions(cache)), server);
        var ticket = cache.FindEntry("localhost", TestPki.Now)!.Value.Ticket!;
        var original = ticket.ToArray();
        ticket[^1] ^= 0x01;

        var second = Connect(Tls12(ClientOptions(cache)), server);

        Assert.False(second.Server.Engine.Connection!.Resumed);
        Assert.False(second.Client.Engine.Connection!.Resumed);
        var renewed = cache.FindEntry("localhost", TestPki.Now)!.Value.Ticket!;
        Assert.NotEqual(original, renewed);
        Assert.True(Connect(Tls12(ClientOptions(cache)), server).Server.Engine.Connection!.Resumed);
    }

    [Fact]
    public void Ticket_past_its_lifetime_is_refused_by_the_server()
    {
        var cache = new TlsSessionCache(lifetime: TimeSpan.FromDays(1));
        var server = ServerOptions(new SessionTicketKeys(TestRandom.Create(), ticketLifetime: TimeSpan.FromMinutes(10)));
        Connect(Tls12(ClientOptions(cache)), server);

        // The client still holds the ticket (a clock of its own); the server judges by its own clock.
        var late = Connect(Tls12(ClientOptions(cache)), server, clientNow: TestPki.Now.AddMinutes(5), serverNow: TestPki.Now.AddMinutes(11));

        Assert.False(late.Server.Engine.Connection!.Resumed);
    }

    [Fact]
    public void Client_keeps_a_ticket_no_longer_than_the_servers_lifetime_hint()
    {
        var cache = new TlsSessionCache(lifetime: TimeSpan.FromDays(1));
        Connect(Tls12(ClientOptions(cache)), ServerOptions(new SessionTicketKeys(TestRandom.Create(), ticketLifetime: TimeSpan.FromMinutes(10))));

        Assert.NotNull(cache.FindEntry("localhost", TestPki.Now.AddMinutes(9)));
        Assert.Null(cache.FindEntry("localhost", TestPki.Now.AddMinutes(10)));
    }

    [Fact]
    public void Ticket_is_not_resumed_under_another_server_name()
    {
        var one = TestPki.Get(ServerKeyType.EcdsaP256, "one.test");
        var two = TestPki.Get(ServerKeyType.EcdsaP256, "two.test");
        var credentials = new ServerCredentialSet(one.Credential, two.Credential);
        var server = ServerOptions(new SessionTicketKeys(TestRandom.Create()), credentials);
        var cache = new TlsSessionCache();
        Connect(Tls12(ClientOptions(cache, new ExpectedKeyVerifier(one), "one.test")), server);
        var (session, ticket) = cache.FindEntry("one.test", TestPki.Now)!.Value;
        cache.Store("two.test", session, TestPki.Now, ticket);

        var other = Connect(Tls12(ClientOptions(cache, new ExpectedKeyVerifier(two), "two.test")), server);

        Assert.False(other.Server.Engine.Connection!.Resumed);
        Assert.Equal("two.test", other.Server.Engine.Connection.ServerName);
    }

    [Fact]
    public void Ticket_is_not_resumed_when_the_alpn_result_would_differ()
    {
        var cache = new TlsSessionCache();
        var keys = new SessionTicketKeys(TestRandom.Create());
        Connect(Tls12(ClientOptions(cache)), ServerOptions(keys, null, "http/1.1"));

        var second = Connect(Tls12(ClientOptions(cache)), ServerOptions(keys, null, "h2", "http/1.1"));

        Assert.False(second.Server.Engine.Connection!.Resumed);
        Assert.Equal("h2", second.Client.Engine.Connection!.ApplicationProtocol);
    }

    [Fact]
    public void Server_without_ticket_keys_falls_back_to_its_session_cache()
    {
        var cache = new TlsSessionCache();
        var server = new TlsServerOptions
        {
            Credentials = new ServerCredentialSet(Certificate.Credential), Random = TestRandom.Create(), SessionCache = new TlsSessionCache(),
        };
        Connect(Tls12(ClientOptions(cache)), server);
        Assert.Null(cache.FindEntry("localhost", TestPki.Now)!.Value.Ticket);

        Assert.True(Connect(Tls12(ClientOptions(cache)), server).Server.Engine.Connection!.Resumed);
    }

    [Fact]
    public void Client_forgets_a_session_whose_resumption_failed()
    {
        var cache = new TlsSessionCache();
        var server = ServerOptions(new SessionTicketKeys(TestRandom.Create()));
        Connect(Tls12(ClientOptions(cache)), server);
        Assert.Equal(1, cache.Count);

        var pair = new EnginePair(Tls12(ClientOptions(cache)), server);
        pair.Client.Now = pair.Server.Now = TestPki.Now;
        EnginePair.Transfer(pair.Client, pair.Server);
        EnginePair.TransferAltered(pair.Server, pair.Client, bytes =>
        {
            bytes[^1] ^= 0x01; // the server's Finished, sealed under the resumed keys
            return bytes;
        });

        Assert.Equal(TlsEngineState.Failed, pair.Client.Engine.State);
        Assert.Equal(TlsAlertDescription.BadRecordMac, pair.Client.Engine.Error!.Alert!.Value.Description);
        Assert.Equal(0, cache.Count);
    }

    private static TlsClientOptions Tls12(TlsClientOptions options) => new()
    {
        ServerName = options.ServerName, Verifier = options.Verifier, Random = options.Random,
        SessionCache = options.SessionCache, ApplicationProtocols = options.ApplicationProtocols, OnlyVersion = TlsVersion.Tls12,
    };
}
