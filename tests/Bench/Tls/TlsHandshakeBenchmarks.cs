using System.Buffers;
using System.Net.Security;
using Apps.Tls.Adapters;
using Apps.Tls.Engine;
using BenchmarkDotNet.Attributes;

namespace Apps.Bench.Tls;

/// <summary>
/// New TLS 1.3 handshakes (ECDSA P-256 certificate, X25519) in memory: .NET SslStream (OpenSSL) as the
/// anchor, our engine through its pipe adapter, and the bare engine pumped synchronously; each of ours both with
/// the platform's handshake crypto (the default) and with BouncyCastle's own (<c>UsePlatformHandshake = false</c>).
///   dotnet run -c Release --project tests/Bench -- --filter '*TlsHandshake*' --job short
/// </summary>
[MemoryDiagnoser]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class TlsHandshakeBenchmarks
{
    private TlsClientOptions _client = null!;
    private TlsServerOptions _server = null!;
    private TlsClientOptions _bcClient = null!;
    private TlsServerOptions _bcServer = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Every SslStream handshake must be a full one, as ours are.
        AppContext.SetSwitch("System.Net.Security.DisableTlsResume", true);
        _client = BenchPeers.ClientOptions();
        _server = BenchPeers.ServerOptions();
        _bcClient = BenchPeers.ClientOptions(platformHandshake: false);
        _bcServer = BenchPeers.ServerOptions(platformHandshake: false);
    }

    [Benchmark(Baseline = true)]
    public async Task SslStream()
    {
        var (clientEnd, serverEnd) = BenchPeers.PipePair();
        await using var client = new SslStream(new DuplexPipeStream(clientEnd));
        await using var server = new SslStream(new DuplexPipeStream(serverEnd));
        await Task.WhenAll(
            client.AuthenticateAsClientAsync(BenchPeers.SslClientOptions()),
            server.AuthenticateAsServerAsync(BenchPeers.SslServerOptions()));
    }

    [Benchmark]
    public Task TlsConnection_pipes() => ConnectionHandshake(_client, _server);

    [Benchmark]
    public Task TlsConnection_pipes_bouncycastle_crypto() => ConnectionHandshake(_bcClient, _bcServer);

    [Benchmark]
    public void TlsEngine_in_memory() => EngineHandshake(_client, _server);

    [Benchmark]
    public void TlsEngine_in_memory_bouncycastle_crypto() => EngineHandshake(_bcClient, _bcServer);

    private static async Task ConnectionHandshake(TlsClientOptions clientOptions, TlsServerOptions serverOptions)
    {
        var (clientEnd, serverEnd) = BenchPeers.PipePair();
        var server = TlsConnection.AcceptAsync(serverEnd, serverOptions);
        await using var client = await TlsConnection.ConnectAsync(clientEnd, clientOptions);
        await using var accepted = await server;
    }

    private static void EngineHandshake(TlsClientOptions clientOptions, TlsServerOptions serverOptions)
    {
        var client = TlsEngine.CreateClient(clientOptions);
        var server = TlsEngine.CreateServer(serverOptions);
        var toServer = new ArrayBufferWriter<byte>();
        var toClient = new ArrayBufferWriter<byte>();
        var plaintext = new ArrayBufferWriter<byte>();
        var now = DateTimeOffset.UnixEpoch;
        client.Process(default, now, toServer, plaintext);
        for (var round = 0; round < 4 && (client.State != TlsEngineState.Open || server.State != TlsEngineState.Open); round++)
        {
            server.Process(toServer.WrittenSpan, now, toClient, plaintext);
            toServer.ResetWrittenCount();
            client.Process(toClient.WrittenSpan, now, toServer, plaintext);
            toClient.ResetWrittenCount();
        }

        if (client.State != TlsEngineState.Open)
        {
            throw new InvalidOperationException($"handshake did not complete: {client.Error?.Message}");
        }
    }
}
