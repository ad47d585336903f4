using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Apps.Bench.Tls;

/// <summary>
/// Sealing one TLS record with AES-256-GCM: .NET's <see cref="AesGcm"/> (OpenSSL on Linux, several interop calls per
/// record) against BouncyCastle's managed GCM (AES-NI and PCLMULQDQ), at the sizes of a small HTTP request, a small
/// response with its headers, and a full 16 KiB record. The anchor is .NET's.
/// Run: <c>dotnet run -c Release --project tests/Bench -- --filter '*RecordAead*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class RecordAeadBench
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _nonce = RandomNumberGenerator.GetBytes(12);
    private readonly byte[] _aad = RandomNumberGenerator.GetBytes(5);
    private readonly byte[] _tag = new byte[16];
    private byte[] _data = [];
    private byte[] _output = [];
    private AesGcm _platform = null!;
    private GcmBlockCipher _managed = null!;

    [Params(100, 600, 16384)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = RandomNumberGenerator.GetBytes(Size);
        _output = new byte[Size + 16];
        _platform = new AesGcm(_key, 16);
        _managed = new GcmBlockCipher(AesUtilities.CreateEngine());
        _managed.Init(true, new AeadParameters(new KeyParameter(_key), 128, _nonce, _aad));
    }

    [GlobalCleanup]
    public void Cleanup() => _platform.Dispose();

    [Benchmark(Baseline = true)]
    public void Platform() => _platform.Encrypt(_nonce, _data, _output.AsSpan(0, Size), _tag, _aad);

    [Benchmark]
    public void BouncyCastle()
    {
        // A new nonce per record, as TLS has; the key (and GHASH's H) stay.
        _nonce[11]++;
        _managed.Init(true, new AeadParameters(null!, 128, _nonce, _aad));
        var written = _managed.ProcessBytes(_data, 0, Size, _output, 0);
        _managed.DoFinal(_output, written);
    }
}
