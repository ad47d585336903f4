using System.Buffers.Binary;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Engine;

/// <summary>Input a hostile peer could send: the engine must fail cleanly with the right alert, never throw.</summary>
public class HostileInputTests
{
    private static readonly TestCertificate Certificate = TestPki.Get(ServerKeyType.EcdsaP256);

    private static EngineEnd NewServer() => new(TlsEngine.CreateServer(new TlsServerOptions
    {
        Credentials = new ServerCredentialSet(Certificate.Credential), Random = TestRandom.Create(),
    }));

    private static EngineEnd NewClient()
    {
        var client = new EngineEnd(TlsEngine.CreateClient(new TlsClientOptions
        {
            ServerName = "localhost", Verifier = new ExpectedKeyVerifier(Certificate), Random = TestRandom.Create(),
        }));
        client.Process(default);
        return client;
    }

    [Fact]
    public void Random_bytes_never_escape_as_exceptions()
    {
        var random = new Random(1234);
        for (var i = 0; i < 300; i++)
        {
            var bytes = new byte[random.Next(1, 4000)];
            random.NextBytes(bytes);
            if (i % 3 == 0)
            {
                bytes[0] = 22; // make some of them look like handshake records
                bytes[1] = 3;
                bytes[2] = 3;
            }

            foreach (var end in new[] { NewServer(), NewClient() })
            {
                end.Process(bytes);
                var state = end.Engine.State;
                Assert.True(state is TlsEngineState.Failed or TlsEngineState.Handshaking, $"state {state}");
                if (state == TlsEngineState.Failed)
                {
                    Assert.NotEqual(TlsFault.Internal, end.Engine.Error!.Fault);
                }
            }
        }
    }

    [Fact]
    public void Oversized_record_fails_with_record_overflow_before_buffering_it()
    {
        var server = NewServer();
        server.Process([22, 3, 3, 0xFF, 0xFF, 1, 2, 3]);
        var error = server.Engine.Error!;
        Assert.Equal(TlsAlertDescription.RecordOverflow, error.Alert!.Value.Description);
        Assert.Equal(TlsFault.Peer, error.Fault);
        Assert.Contains(server.Events, e => e is TlsAlertSent { Alert.Description: TlsAlertDescription.RecordOverflow });
    }

    [Fact]
    public void Truncated_record_waits_for_more_and_keeps_only_one_record()
    {
        var client = NewClient();
        var hello = client.Outbound.WrittenSpan.ToArray();
        var server = NewServer();
        server.Process(hello.AsSpan(0, hello.Length - 10));
        Assert.Equal(TlsEngineState.Handshaking, server.Engine.State);
        Assert.Equal(0, server.Outbound.WrittenCount);
        server.Process(hello.AsSpan(hello.Length - 10));
        Assert.True(server.Outbound.WrittenCount > 0, "the completed ClientHello is answered");
    }

    [Fact]
    public void Fatal_alert_mid_handshake_ends_the_client_blaming_the_peer()
    {
        var client = NewClient();
        client.Process([21, 3, 3, 0, 2, 2, 40]);
        var error = client.Engine.Error!;
        Assert.True(error.AlertFromPeer);
        Assert.Equal(TlsFault.Peer, error.Fault);
        Assert.Equal(TlsAlertDescription.HandshakeFailure, error.Alert!.Value.Description);
        Assert.Contains("handshake_failure", error.Message);
    }

    [Fact]
    public void Empty_handshake_record_is_refused_at_once()
    {
        var server = NewServer();
        server.Process([22, 3, 3, 0, 0]);
        Assert.Equal(TlsEngineState.Failed, server.Engine.State);
        Assert.Equal(TlsFault.Peer, server.Engine.Error!.Fault);
    }

    [Fact]
    public void Application_data_before_the_handshake_is_an_unexpected_message()
    {
        var server = NewServer();
        server.Process([23, 3, 3, 0, 5, 1, 2, 3, 4, 5]);
        Assert.Equal(TlsAlertDescription.UnexpectedMessage, server.Engine.Error!.Alert!.Value.Description);
    }

    [Fact]
    public void Handshake_message_claiming_16_mib_is_refused_at_once()
    {
        var server = NewServer();
        server.Process([22, 3, 3, 0, 4, 1, 0xFF, 0xFF, 0xFF]);
        var error = server.Engine.Error!;
        Assert.Equal(TlsFault.Peer, error.Fault);
        Assert.Contains("exceeds the maximum", error.Message);
        Assert.Contains(server.Events, e => e is TlsAlertSent { Alert.Level: TlsAlertLevel.Fatal });
    }

    [Fact]
    public void Client_hello_with_hundreds_of_unknown_extensions_is_answered()
    {
        var hello = WithExtraExtensions(NewClient().Outbound.WrittenSpan.ToArray(), count: 300, distinct: true);
        var server = NewServer();
        server.Process(hello);
        Assert.Null(server.Engine.Error);
        Assert.True(server.Outbound.WrittenCount > 0, "RFC 8446 §4.2: unknown extensions are ignored");
    }

    [Fact]
    public void Client_hello_with_hundreds_of_duplicate_extensions_fails_cleanly()
    {
        var hello = WithExtraExtensions(NewClient().Outbound.WrittenSpan.ToArray(), count: 300, distinct: false);
        var server = NewServer();
        server.Process(hello);
        var error = server.Engine.Error!;
        Assert.Equal(TlsFault.Peer, error.Fault);
        Assert.Equal(TlsAlertDescription.IllegalParameter, error.Alert!.Value.Description);
    }

    [Fact]
    public void Tampered_server_flight_fails_the_client_not_with_an_exception()
    {
        var random = new Random(99);
        for (var i = 0; i < 50; i++)
        {
            var pair = EnginePair.Create(Certificate);
            EnginePair.Transfer(pair.Client, pair.Server);
            EnginePair.TransferAltered(pair.Server, pair.Client, bytes =>
            {
                bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                return bytes;
            });
            EnginePair.Transfer(pair.Client, pair.Server);
            if (pair.Client.Engine.State == TlsEngineState.Open)
            {
                // Only fields RFC 8446 §5.1 says to ignore (legacy_record_version) may change unnoticed;
                // then the connection must still be intact end to end.
                Assert.Equal(TlsEngineState.Open, pair.Server.Engine.State);
                pair.Client.Write("intact"u8.ToArray());
                EnginePair.Transfer(pair.Client, pair.Server);
                Assert.Equal("intact"u8.ToArray(), pair.Server.TakeReceived());
            }
            else
            {
                Assert.Equal(TlsEngineState.Failed, pair.Client.Engine.State);
                Assert.Equal(TlsFault.Peer, pair.Client.Engine.Error!.Fault);
            }
        }
    }

    [Fact]
    public void Client_detects_the_tls13_downgrade_sentinel_in_a_tls12_server_hello()
    {
        var pair = EnginePair.Create(Certificate, server: s => new TlsServerOptions
        {
            Credentials = s.Credentials, Random = s.Random, OnlyVersion = TlsVersion.Tls12,
        });
        EnginePair.Transfer(pair.Client, pair.Server);

        // RFC 8446 §4.1.3: the last 8 bytes of ServerHello.random say "DOWNGRD\x01" when a TLS 1.3 server
        // was talked down to 1.2. record(5) | handshake header(4) | legacy_version(2) | random(32).
        EnginePair.TransferAltered(pair.Server, pair.Client, bytes =>
        {
            "DOWNGRD\x01"u8.CopyTo(bytes.AsSpan(5 + 4 + 2 + 24));
            return bytes;
        });

        var error = pair.Client.Engine.Error!;
        Assert.Equal(TlsAlertDescription.IllegalParameter, error.Alert!.Value.Description);
        Assert.Equal(TlsFault.Peer, error.Fault);
    }

    /// <summary>Appends extensions to a ClientHello record (RFC 8446 §4.1.2) and fixes the three length fields.</summary>
    private static byte[] WithExtraExtensions(byte[] record, int count, bool distinct)
    {
        var extra = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(extra.AsSpan(i * 4), (ushort)(0x7000 + (distinct ? i : 0)));
        }

        // Walk: record header(5) | type(1) len(3) | version(2) random(32) | session_id | suites | compression | extensions
        var offset = 5 + 4 + 2 + 32;
        offset += 1 + record[offset];
        offset += 2 + BinaryPrimitives.ReadUInt16BigEndian(record.AsSpan(offset));
        offset += 1 + record[offset];
        var extensionsLength = BinaryPrimitives.ReadUInt16BigEndian(record.AsSpan(offset));

        var result = new byte[record.Length + extra.Length];
        record.CopyTo(result, 0);
        extra.CopyTo(result, record.Length);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(offset), (ushort)(extensionsLength + extra.Length));
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(3), (ushort)(result.Length - 5));
        var handshakeLength = result.Length - 9;
        result[6] = (byte)(handshakeLength >> 16);
        result[7] = (byte)(handshakeLength >> 8);
        result[8] = (byte)handshakeLength;
        return result;
    }
}
