using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Engine;

public class ConnectionLifecycleTests
{
    [Theory]
    [InlineData(TlsVersion.Tls13)]
    [InlineData(TlsVersion.Tls12)]
    public void Half_close_lets_the_other_side_keep_writing(TlsVersion version)
    {
        var pair = Pair(version);
        pair.Handshake();

        pair.Client.Engine.CloseWrite(pair.Client.Outbound);
        Assert.Equal(TlsEngineState.WriteClosed, pair.Client.Engine.State);
        EnginePair.Transfer(pair.Client, pair.Server);
        pair.Server.Single<TlsPeerClosed>();
        Assert.Equal(TlsEngineState.PeerClosed, pair.Server.Engine.State);

        pair.Server.Write("last words"u8.ToArray());
        pair.Server.Engine.CloseWrite(pair.Server.Outbound);
        EnginePair.Transfer(pair.Server, pair.Client);

        Assert.Equal("last words"u8.ToArray(), pair.Client.TakeReceived());
        Assert.Equal(TlsEngineState.Closed, pair.Client.Engine.State);
        Assert.Equal(TlsEngineState.Closed, pair.Server.Engine.State);
        Assert.Null(pair.Client.Engine.Error);
    }

    [Fact]
    public void Bytes_after_close_notify_are_not_consumed()
    {
        var pair = Pair(TlsVersion.Tls13);
        pair.Handshake();
        pair.Client.Write("data"u8.ToArray());
        pair.Client.Engine.CloseWrite(pair.Client.Outbound);
        var records = pair.Client.Outbound.WrittenSpan.ToArray();
        byte[] trailing = [23, 3, 3, 0, 3, 9, 9, 9];

        var result = pair.Server.Engine.Process([.. records, .. trailing], TestPki.Now, pair.Server.Outbound, pair.Server.Received);

        Assert.Equal(records.Length, result.Consumed);
        Assert.Equal(TlsEngineState.PeerClosed, result.State);
        Assert.Equal("data"u8.ToArray(), pair.Server.TakeReceived());
    }

    [Fact]
    public void Writing_after_close_is_an_api_misuse()
    {
        var pair = Pair(TlsVersion.Tls13);
        pair.Handshake();
        pair.Client.Engine.CloseWrite(pair.Client.Outbound);
        Assert.Throws<TlsApiMisuseException>(() => pair.Client.Write([1]));
    }

    [Fact]
    public void Writing_before_the_handshake_is_an_api_misuse()
    {
        var pair = Pair(TlsVersion.Tls13);
        Assert.Throws<TlsApiMisuseException>(() => pair.Client.Write([1]));
    }

    [Fact]
    public void Key_update_keeps_data_flowing_both_ways()
    {
        var pair = Pair(TlsVersion.Tls13);
        pair.Handshake();

        pair.Client.Engine.RequestKeyUpdate(pair.Client.Outbound);
        pair.Client.Write("after update"u8.ToArray());
        EnginePair.Transfer(pair.Client, pair.Server);
        pair.Server.Write("reply"u8.ToArray());

        // RFC 8446 §4.6.3: the answering KeyUpdate precedes the next application data record, so the
        // server's output holds two records (a lone 5-byte reply record is 5 + 5 + 1 + 16 = 27 bytes).
        Assert.True(pair.Server.Outbound.WrittenCount > 27, $"server wrote {pair.Server.Outbound.WrittenCount} bytes");
        EnginePair.Transfer(pair.Server, pair.Client);

        Assert.Equal("after update"u8.ToArray(), pair.Server.TakeReceived());
        Assert.Equal("reply"u8.ToArray(), pair.Client.TakeReceived());
        Assert.Equal(TlsEngineState.Open, pair.Client.Engine.State);
    }

    [Fact]
    public void Key_update_is_refused_on_tls12()
    {
        var pair = Pair(TlsVersion.Tls12);
        pair.Handshake();
        Assert.Throws<TlsApiMisuseException>(() => pair.Client.Engine.RequestKeyUpdate(pair.Client.Outbound));
    }

    [Fact]
    public void Tampered_application_record_fails_with_bad_record_mac_blamed_on_the_peer()
    {
        var pair = Pair(TlsVersion.Tls13);
        pair.Handshake();
        pair.Client.Write("hello"u8.ToArray());
        EnginePair.TransferAltered(pair.Client, pair.Server, bytes =>
        {
            bytes[^1] ^= 0x01;
            return bytes;
        });

        var error = pair.Server.Engine.Error!;
        Assert.Equal(TlsFault.Peer, error.Fault);
        Assert.Equal(TlsAlertDescription.BadRecordMac, error.Alert!.Value.Description);
        Assert.Empty(pair.Server.TakeReceived());
        EnginePair.Transfer(pair.Server, pair.Client);
        Assert.True(pair.Client.Engine.Error!.AlertFromPeer);
    }

    [Fact]
    public void Tls12_session_is_resumed_from_the_bounded_caches()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        var clientCache = new TlsSessionCache(capacity: 4);
        var serverCache = new TlsSessionCache(capacity: 4);
        var verifier = new ExpectedKeyVerifier(certificate);
        var clientOptions = new TlsClientOptions
        {
            ServerName = "localhost", Verifier = verifier, Random = TestRandom.Create(), SessionCache = clientCache,
            OnlyVersion = TlsVersion.Tls12,
        };
        var serverOptions = new TlsServerOptions
        {
            Credentials = new ServerCredentialSet(certificate.Credential), Random = TestRandom.Create(), SessionCache = serverCache,
        };

        var first = new EnginePair(clientOptions, serverOptions);
        first.Handshake();
        Assert.False(first.Client.Engine.Connection!.Resumed);
        Assert.Equal(1, clientCache.Count);
        Assert.Equal(1, serverCache.Count);

        var second = new EnginePair(clientOptions, serverOptions);
        second.Handshake();
        Assert.True(second.Client.Engine.Connection!.Resumed);
        Assert.True(second.Server.Engine.Connection!.Resumed);
        Assert.Single(verifier.Calls);
        second.Client.Write("resumed"u8.ToArray());
        EnginePair.Transfer(second.Client, second.Server);
        Assert.Equal("resumed"u8.ToArray(), second.Server.TakeReceived());
    }

    [Fact]
    public void Session_cache_drops_the_least_recently_used_and_expired_entries()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        var source = new TlsSessionCache();
        var pair = new EnginePair(
            new TlsClientOptions
            {
                ServerName = "localhost", Verifier = new ExpectedKeyVerifier(certificate), Random = TestRandom.Create(),
                OnlyVersion = TlsVersion.Tls12, SessionCache = source,
            },
            new TlsServerOptions { Credentials = new ServerCredentialSet(certificate.Credential), Random = TestRandom.Create(), SessionCache = new TlsSessionCache() });
        pair.Handshake();
        var now = TestPki.Now;
        var session = source.Find("localhost", now)!;

        var cache = new TlsSessionCache(capacity: 2, lifetime: TimeSpan.FromMinutes(5));
        cache.Store("a", session, now);
        cache.Store("b", session, now);
        Assert.NotNull(cache.Find("a", now));
        cache.Store("c", session, now);
        Assert.Null(cache.Find("b", now));
        Assert.NotNull(cache.Find("a", now));
        Assert.Null(cache.Find("c", now.AddMinutes(6)));
        Assert.Equal(1, cache.Count);
    }

    private static EnginePair Pair(TlsVersion version) =>
        EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256), client: c => new TlsClientOptions
        {
            ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, OnlyVersion = version,
        });
}
