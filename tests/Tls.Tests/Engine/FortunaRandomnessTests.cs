using System.Buffers;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Entropy;
using Apps.Tls.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Tls.Tests.Engine;

/// <summary>The engine's randomness comes from Fortuna, through <see cref="FortunaRandomGenerator"/>, and nowhere else.</summary>
public sealed class FortunaRandomnessTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Handshake_completes_with_fortuna_on_both_sides()
    {
        var time = new FakeTimeProvider(Now);
        using var client = new Fortuna(time);
        using var server = new Fortuna(time);
        client.RestoreSeed(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        server.RestoreSeed(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
            client: c => new TlsClientOptions { ServerName = c.ServerName, Verifier = c.Verifier, Random = FortunaRandomGenerator.CreateSecureRandom(client) },
            server: s => new TlsServerOptions { Credentials = s.Credentials, Random = FortunaRandomGenerator.CreateSecureRandom(server) });
        pair.Handshake();
        Assert.Equal(TlsEngineState.Open, pair.Client.Engine.State);
        Assert.Equal(TlsEngineState.Open, pair.Server.Engine.State);
    }

    [Fact]
    public void Engine_on_an_unseeded_fortuna_fails_cleanly_rather_than_use_weak_randomness()
    {
        using var unseeded = new Fortuna(new FakeTimeProvider(Now));
        var engine = TlsEngine.CreateClient(new TlsClientOptions
        {
            ServerName = "localhost",
            Verifier = new ExpectedKeyVerifier(TestPki.Get(ServerKeyType.EcdsaP256)),
            Random = FortunaRandomGenerator.CreateSecureRandom(unseeded),
        });
        var output = new ArrayBufferWriter<byte>();
        engine.Process(default, Now, output, new ArrayBufferWriter<byte>());
        Assert.Equal(TlsEngineState.Failed, engine.State);
        Assert.Equal(0, output.WrittenCount); // no ClientHello made from anything but Fortuna
        Assert.Contains("not been seeded", engine.Error!.ToString());
    }
}
