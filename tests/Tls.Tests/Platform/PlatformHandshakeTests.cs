using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Tests.Platform;

/// <summary>Whole handshakes with the platform's key exchange and signing, against BouncyCastle's, and hostile key shares.</summary>
public class PlatformHandshakeTests
{
    public static TheoryData<ServerKeyType, int, bool, bool> Combinations()
    {
        var data = new TheoryData<ServerKeyType, int, bool, bool>();
        foreach (var key in new[] { ServerKeyType.EcdsaP256, ServerKeyType.EcdsaP384 })
        {
            foreach (var group in new[] { NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1 })
            {
                data.Add(key, group, true, true);
                data.Add(key, group, true, false);
                data.Add(key, group, false, true);
            }
        }

        return data;
    }

    [Theory, MemberData(nameof(Combinations))]
    public void Platform_and_bouncycastle_ends_complete_handshakes_in_both_versions(ServerKeyType key, int group, bool platformClient, bool platformServer)
    {
        foreach (var version in new[] { TlsVersion.Tls13, TlsVersion.Tls12 })
        {
            var pair = EnginePair.Create(TestPki.Get(key),
                client: c => new TlsClientOptions
                {
                    ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, Groups = [group], OnlyVersion = version,
                    UsePlatformHandshake = platformClient,
                },
                server: s => new TlsServerOptions { Credentials = s.Credentials, Random = s.Random, UsePlatformHandshake = platformServer });
            pair.Handshake();
            pair.Client.Write("ping"u8.ToArray());
            EnginePair.Transfer(pair.Client, pair.Server);
            Assert.Equal("ping"u8.ToArray(), pair.Server.TakeReceived());
        }
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")]
    public void Server_refuses_a_low_order_x25519_share_with_handshake_failure(string point)
    {
        var pair = NewPair(NamedGroup.x25519);
        EnginePair.TransferAltered(pair.Client, pair.Server, hello => ReplaceKeyShare(hello, NamedGroup.x25519, Convert.FromHexString(point)));
        AssertServerAlert(pair, TlsAlertDescription.HandshakeFailure);
    }

    [Fact]
    public void Server_refuses_a_p256_share_off_the_curve_with_illegal_parameter()
    {
        var pair = NewPair(NamedGroup.secp256r1);
        EnginePair.TransferAltered(pair.Client, pair.Server, hello =>
        {
            var share = KeyShare(hello, NamedGroup.secp256r1).ToArray();
            share[^1] ^= 1;
            return ReplaceKeyShare(hello, NamedGroup.secp256r1, share);
        });
        AssertServerAlert(pair, TlsAlertDescription.IllegalParameter);
    }

    [Fact]
    public void Client_refuses_a_low_order_x25519_share_from_the_server()
    {
        var pair = NewPair(NamedGroup.x25519);
        EnginePair.Transfer(pair.Client, pair.Server);
        // The ServerHello is the first record of the server's flight and is not encrypted.
        EnginePair.TransferAltered(pair.Server, pair.Client, flight => ReplaceKeyShare(flight, NamedGroup.x25519, new byte[32]));
        Assert.Equal(TlsEngineState.Failed, pair.Client.Engine.State);
        Assert.Equal(TlsAlertDescription.HandshakeFailure, pair.Client.Engine.Error!.Alert!.Value.Description);
    }

    private static EnginePair NewPair(int group) => EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
        client: c => new TlsClientOptions { ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, Groups = [group] });

    private static void AssertServerAlert(EnginePair pair, TlsAlertDescription expected)
    {
        Assert.Equal(TlsEngineState.Failed, pair.Server.Engine.State);
        var error = pair.Server.Engine.Error!;
        Assert.Equal(expected, error.Alert!.Value.Description);
        Assert.Equal(TlsFault.Peer, error.Fault);
        Assert.Contains(pair.Server.Events, e => e is TlsAlertSent sent && sent.Alert.Description == expected);
    }

    /// <summary>RFC 8446 §4.2.8: a KeyShareEntry is group (2 bytes), length (2 bytes), key_exchange; finds the first one for <paramref name="group"/>.</summary>
    private static Span<byte> KeyShare(byte[] message, int group)
    {
        var length = group == NamedGroup.x25519 ? 32 : 65;
        for (var i = 0; i + 4 + length <= message.Length; i++)
        {
            if (message[i] == group >> 8 && message[i + 1] == (byte)group && message[i + 2] == length >> 8 && message[i + 3] == (byte)length
                && (group != NamedGroup.secp256r1 || message[i + 4] == 0x04))
            {
                return message.AsSpan(i + 4, length);
            }
        }

        throw new InvalidOperationException($"no key share for group {group} found");
    }

    private static byte[] ReplaceKeyShare(byte[] message, int group, byte[] share)
    {
        var copy = message.ToArray();
        share.CopyTo(KeyShare(copy, group));
        return copy;
    }
}
