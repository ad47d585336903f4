using System.Buffers;
using System.Net.Security;
using Apps.Tls.Adapters;
using Apps.Tls.Engine;
using BenchmarkDotNet.Attributes;

namespace Apps.Bench.Tls;

/// <summary>
/// Bulk transfer over an established TLS 1.3 connection in memory, 16 KiB records, 1 MiB per operation:
/// SslStream (OpenSSL) as the anchor; ours through the pipe adapter with .NET's AEAD (default) and with
/// BouncyCastle's own AEAD; and the bare engines (seal + open, no I/O).
///   dotnet run -c Release --project tests/Bench -- --filter '*TlsBulk*' --job short
/// </summary>
[MemoryDiagnoser]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class TlsBulkBenchmarks
{
    private const int RecordSize = 16 * 1024;
    private const int Records = 64;

    private readonly byte[] _record = new byte[RecordSize];
    private readonly byte[] _sink = new byte[RecordSize * 4];
    private SslStream _sslClient = null!;
    private SslStream _sslServer = null!;
    private Stream _oursClient = null!;
    private Stream _oursServer = null!;
    private Stream _bcClient = null!;
    private Stream _bcServer = null!;
    private TlsEngine _engineClient = null!;
    private TlsEngine _engineServer = null!;
    private readonly ArrayBufferWriter<byte> _wire = new(RecordSize * 2);
    private readonly ArrayBufferWriter<byte> _opened = new(RecordSize * 2);
    private readonly ArrayBufferWriter<byte> _none = new();

    [Params("AES-128-GCM", "ChaCha20-Poly1305")]
    public string Cipher { get; set; } = "AES-128-GCM";

    [GlobalSetup]
    public async Task Setup()
    {
        Random.Shared.NextBytes(_record);
        var aes = Cipher == "AES-128-GCM";
        var ianaSuite = aes ? Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256 : Org.BouncyCastle.Tls.CipherSuite.TLS_CHACHA20_POLY1305_SHA256;
        var dotnetSuite = aes ? TlsCipherSuite.TLS_AES_128_GCM_SHA256 : TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256;

        var (sslClientEnd, sslServerEnd) = BenchPeers.PipePair();
        _sslClient = new SslStream(new DuplexPipeStream(sslClientEnd));
        _sslServer = new SslStream(new DuplexPipeStream(sslServerEnd));
        await Task.WhenAll(
            _sslClient.AuthenticateAsClientAsync(BenchPeers.SslClientOptions(dotnetSuite)),
            _sslServer.AuthenticateAsServerAsync(BenchPeers.SslServerOptions()));
        if (_sslClient.NegotiatedCipherSuite != dotnetSuite)
        {
            throw new InvalidOperationException($"SslStream negotiated {_sslClient.NegotiatedCipherSuite}");
        }

        (_oursClient, _oursServer) = await ConnectAsync(ianaSuite, platformAead: true);
        (_bcClient, _bcServer) = await ConnectAsync(ianaSuite, platformAead: false);

        _engineClient = TlsEngine.CreateClient(BenchPeers.ClientOptions(ianaSuite));
        _engineServer = TlsEngine.CreateServer(BenchPeers.ServerOptions());
        var toServer = new ArrayBufferWriter<byte>();
        var toClient = new ArrayBufferWriter<byte>();
        _engineClient.Process(default, DateTimeOffset.UnixEpoch, toServer, _none);
        for (var round = 0; round < 4; round++)
        {
            _engineServer.Process(toServer.WrittenSpan, DateTimeOffset.UnixEpoch, toClient, _none);
            toServer.ResetWrittenCount();
            _engineClient.Process(toClient.WrittenSpan, DateTimeOffset.UnixEpoch, toServer, _none);
            toClient.ResetWrittenCount();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Records)]
    public Task SslStream() => TransferAsync(_sslClient, _sslServer);

    [Benchmark(OperationsPerInvoke = Records)]
    public Task TlsConnection_platform_aead() => TransferAsync(_oursClient, _oursServer);

    [Benchmark(OperationsPerInvoke = Records)]
    public Task TlsConnection_bouncycastle_aead() => TransferAsync(_bcClient, _bcServer);

    [Benchmark(OperationsPerInvoke = Records)]
    public void TlsEngine_seal_and_open()
    {
        for (var i = 0; i < Records; i++)
        {
            _engineClient.Write(_record, _wire);
            _engineServer.Process(_wire.WrittenSpan, DateTimeOffset.UnixEpoch, _none, _opened);
            _wire.ResetWrittenCount();
            _opened.ResetWrittenCount();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sslClient.Dispose();
        _sslServer.Dispose();
        _oursClient.Dispose();
        _oursServer.Dispose();
        _bcClient.Dispose();
        _bcServer.Dispose();
    }

    private static async Task<(Stream Client, Stream Server)> ConnectAsync(int suite, bool platformAead)
    {
        var (clientEnd, serverEnd) = BenchPeers.PipePair();
        var server = TlsConnection.AcceptAsync(serverEnd, BenchPeers.ServerOptions(platformAead));
        var client = await TlsConnection.ConnectAsync(clientEnd, BenchPeers.ClientOptions(suite, platformAead));
        return (client.AsStream(), (await server).AsStream());
    }

    private async Task TransferAsync(Stream client, Stream server)
    {
        var receive = ReceiveAsync(server, RecordSize * Records);
        for (var i = 0; i < Records; i++)
        {
            await client.WriteAsync(_record);
        }

        await client.FlushAsync();
        await receive;
    }

    private async Task ReceiveAsync(Stream server, int total)
    {
        var received = 0;
        while (received < total)
        {
            var read = await server.ReadAsync(_sink);
            if (read == 0)
            {
                throw new InvalidOperationException("stream ended early");
            }

            received += read;
        }
    }
}
