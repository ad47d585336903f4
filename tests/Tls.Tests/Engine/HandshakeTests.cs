using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Tests.Engine;

public class HandshakeTests
{
    [Theory]
    [InlineData(ServerKeyType.EcdsaP256, TlsVersion.Tls13)]
    [InlineData(ServerKeyType.EcdsaP384, TlsVersion.Tls13)]
    [InlineData(ServerKeyType.Rsa, TlsVersion.Tls13)]
    [InlineData(ServerKeyType.Ed25519, TlsVersion.Tls13)]
    [InlineData(ServerKeyType.EcdsaP256, TlsVersion.Tls12)]
    [InlineData(ServerKeyType.Rsa, TlsVersion.Tls12)]
    [InlineData(ServerKeyType.Ed25519, TlsVersion.Tls12)]
    public void Handshake_completes_for_each_key_type_and_version(ServerKeyType keyType, TlsVersion version)
    {
        var certificate = TestPki.Get(keyType);
        var pair = EnginePair.Create(certificate, server: s => new TlsServerOptions
        {
            Credentials = s.Credentials, Random = s.Random, OnlyVersion = version,
        });

        pair.Handshake();

        var client = pair.Client.Single<TlsHandshakeCompleted>().Connection;
        var server = pair.Server.Single<TlsHandshakeCompleted>().Connection;
        Assert.Equal(version, client.Version);
        Assert.Equal(version, server.Version);
        Assert.Equal(client.CipherSuite, server.CipherSuite);
        Assert.Equal(certificate.Der, Assert.Single(client.PeerChain));
        Assert.True(client.Verdict!.IsVerified);
        Assert.Equal("localhost", server.ServerName);
    }

    [Fact]
    public void Tls13_is_preferred_and_aes128_gcm_chosen_by_default()
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256));
        pair.Handshake();
        var info = pair.Client.Engine.Connection!;
        Assert.Equal(TlsVersion.Tls13, info.Version);
        Assert.Equal("TLS_AES_128_GCM_SHA256", info.CipherSuiteName);
    }

    [Fact]
    public void Application_data_flows_both_ways_across_many_records()
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256));
        pair.Handshake();
        var big = new byte[100_000];
        Random.Shared.NextBytes(big);

        pair.Client.Write(big);
        EnginePair.Transfer(pair.Client, pair.Server);
        pair.Server.Write("pong"u8.ToArray());
        EnginePair.Transfer(pair.Server, pair.Client);

        Assert.Equal(big, pair.Server.TakeReceived());
        Assert.Equal("pong"u8.ToArray(), pair.Client.TakeReceived());
    }

    [Fact]
    public void Bytes_fed_one_at_a_time_give_the_same_result()
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256));
        for (var round = 0; round < 4; round++)
        {
            foreach (var (from, to) in new[] { (pair.Client, pair.Server), (pair.Server, pair.Client) })
            {
                var bytes = from.Outbound.WrittenSpan.ToArray();
                from.Outbound.ResetWrittenCount();
                foreach (var b in bytes)
                {
                    to.Process([b]);
                }
            }
        }

        Assert.Equal(TlsEngineState.Open, pair.Client.Engine.State);
        Assert.Equal(TlsEngineState.Open, pair.Server.Engine.State);
    }

    [Fact]
    public void Server_picks_its_preferred_alpn_protocol_from_the_clients_offer()
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
            client: c => WithAlpn(c, "http/1.1", "h2"),
            server: s => new TlsServerOptions { Credentials = s.Credentials, Random = s.Random, ApplicationProtocols = ["h2", "http/1.1"] });
        pair.Handshake();
        Assert.Equal("h2", pair.Client.Engine.Connection!.ApplicationProtocol);
        Assert.Equal("h2", pair.Server.Engine.Connection!.ApplicationProtocol);
    }

    [Fact]
    public void No_common_alpn_protocol_fails_with_no_application_protocol()
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
            client: c => WithAlpn(c, "xmpp-client"),
            server: s => new TlsServerOptions { Credentials = s.Credentials, Random = s.Random, ApplicationProtocols = ["h2"] });
        pair.Pump();
        var error = pair.Server.Engine.Error!;
        Assert.Equal(TlsAlertDescription.NoApplicationProtocol, error.Alert!.Value.Description);
        Assert.Equal(TlsFault.LocalPolicy, error.Fault);
        Assert.True(pair.Client.Engine.Error!.AlertFromPeer);
    }

    [Fact]
    public void Server_chooses_the_certificate_named_by_sni()
    {
        var first = TestPki.Get(ServerKeyType.EcdsaP256, "one.test");
        var second = TestPki.Get(ServerKeyType.EcdsaP256, "two.test,*.two.test");
        foreach (var (name, expected) in new[] { ("two.test", second), ("www.two.test", second), ("one.test", first), ("other.test", first) })
        {
            var options = new TlsClientOptions
            {
                ServerName = name, Verifier = new ExpectedKeyVerifier(first, second), Random = TestRandom.Create(),
            };
            var server = new TlsServerOptions
            {
                Credentials = new ServerCredentialSet(first.Credential, second.Credential), Random = TestRandom.Create(),
            };
            var pair = new EnginePair(options, server);
            pair.Handshake();
            Assert.Equal(expected.Der, pair.Client.Engine.Connection!.PeerChain[0]);
            Assert.Equal(name, pair.Server.Engine.Connection!.ServerName);
        }
    }

    [Fact]
    public void Ip_literal_server_name_is_verified_but_not_sent_as_sni()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        var verifier = new ExpectedKeyVerifier(certificate);
        var pair = EnginePair.Create(certificate,
            client: c => new TlsClientOptions { ServerName = "127.0.0.1", Verifier = verifier, Random = c.Random });
        pair.Handshake();
        Assert.Null(pair.Server.Engine.Connection!.ServerName);
        Assert.Equal("127.0.0.1", Assert.Single(verifier.Calls).ServerName);
    }

    [Fact]
    public void Options_outside_the_policy_are_refused_when_the_engine_is_made()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        var error = Assert.Throws<ArgumentException>(() => TlsEngine.CreateClient(new TlsClientOptions
        {
            ServerName = "localhost", Verifier = new ExpectedKeyVerifier(certificate), Random = TestRandom.Create(),
            CipherSuites = [Org.BouncyCastle.Tls.CipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA],
        }));
        Assert.Contains("policy", error.Message);
    }

    [Fact]
    public void Groups_can_be_narrowed_to_p256()
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
            client: c => new TlsClientOptions { ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, Groups = [NamedGroup.secp256r1] });
        pair.Handshake();
        Assert.Equal(TlsEngineState.Open, pair.Client.Engine.State);
    }

    [Theory]
    [InlineData(TlsVersion.Tls13)]
    [InlineData(TlsVersion.Tls12)]
    public void A_server_has_answered_the_client_hello_once_its_signed_flight_is_out(TlsVersion version)
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
            server: s => new TlsServerOptions { Credentials = s.Credentials, Random = s.Random, OnlyVersion = version });
        Assert.False(pair.Server.Engine.AnsweredClientHello);

        EnginePair.Transfer(pair.Client, pair.Server);

        Assert.True(pair.Server.Engine.AnsweredClientHello);
        Assert.True(pair.Server.Outbound.WrittenCount > 0);
        pair.Handshake();
        Assert.False(pair.Client.Engine.AnsweredClientHello);
    }

    [Fact]
    public void A_hello_retry_request_is_not_the_answer_to_the_client_hello()
    {
        // The client's one key share is X25519's; a server that takes only P-256 asks again (RFC 8446 §4.1.4).
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
            client: c => new TlsClientOptions { ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, Groups = [NamedGroup.x25519, NamedGroup.secp256r1] },
            server: s => new TlsServerOptions { Credentials = s.Credentials, Random = s.Random, Groups = [NamedGroup.secp256r1] });

        EnginePair.Transfer(pair.Client, pair.Server);
        Assert.False(pair.Server.Engine.AnsweredClientHello);
        EnginePair.Transfer(pair.Server, pair.Client);
        EnginePair.Transfer(pair.Client, pair.Server);

        Assert.True(pair.Server.Engine.AnsweredClientHello);
        pair.Handshake();
    }

    [Fact]
    public void Version_mismatch_fails_with_protocol_version()
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
            client: c => new TlsClientOptions { ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, OnlyVersion = TlsVersion.Tls12 },
            server: s => new TlsServerOptions { Credentials = s.Credentials, Random = s.Random, OnlyVersion = TlsVersion.Tls13 });
        pair.Pump();
        Assert.Equal(TlsAlertDescription.ProtocolVersion, pair.Server.Engine.Error!.Alert!.Value.Description);
        Assert.Equal(TlsEngineState.Failed, pair.Client.Engine.State);
    }

    [Fact]
    public void Engine_draws_all_randomness_from_the_injected_secure_random()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        var clientRandom = TestRandom.Create(out var clientCounter);
        var serverRandom = TestRandom.Create(out var serverCounter);
        var pair = EnginePair.Create(certificate,
            client: c => new TlsClientOptions { ServerName = c.ServerName, Verifier = c.Verifier, Random = clientRandom },
            server: s => new TlsServerOptions { Credentials = s.Credentials, Random = serverRandom });
        pair.Handshake();

        // Client random (32) + X25519 key share (32) at least; server random + key share + signature nonce.
        Assert.True(clientCounter.Bytes >= 64, $"client drew {clientCounter.Bytes} bytes");
        Assert.True(serverCounter.Bytes >= 64, $"server drew {serverCounter.Bytes} bytes");
    }

    internal static TlsClientOptions WithAlpn(TlsClientOptions c, params string[] protocols) => new()
    {
        ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, ApplicationProtocols = protocols,
    };
}
