using System.Security.Cryptography;
using Apps.Tls.Platform;
using BenchmarkDotNet.Attributes;

namespace Apps.Bench.Tls;

/// <summary>
/// Sealing one TLS 1.3 AES-256-GCM record whose content lies where the application wrote it: copied next to its
/// content type and sealed in place by .NET's <see cref="AesGcm"/> (the anchor, what the record layer did), against
/// OpenSSL's streaming EVP interface taking the content and the type byte apart (<see cref="OpenSslAead"/>),
/// and BouncyCastle's managed GCM that records up to 1 KiB use without libcrypto.so.3 (<c>SmallRecordGcm</c>); then the
/// same two ways for ChaCha20-Poly1305 (.NET's <see cref="ChaCha20Poly1305"/> after the copy, OpenSSL in two pieces).
/// Run: <c>dotnet run -c Release --project tests/Bench -- --filter '*Tls13RecordSeal*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class Tls13RecordSealBench
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly byte[] _nonce = RandomNumberGenerator.GetBytes(12);
    private readonly byte[] _aad = RandomNumberGenerator.GetBytes(5);
    private readonly byte[] _tag = new byte[16];
    private byte[] _content = [];
    private byte[] _record = [];
    private byte[] _sealed = [];
    private AesGcm _platform = null!;
    private OpenSslAead _sealer = null!;
    private ChaCha20Poly1305 _platformChaCha = null!;
    private OpenSslAead _chaChaSealer = null!;
    private Apps.Tls.Engine.SmallRecordGcm _managed = null!;

    [Params(100, 600, 1500, 16384)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _content = RandomNumberGenerator.GetBytes(Size);
        _record = new byte[Size + 1];
        _platform = new AesGcm(_key, 16);
        _sealer = new OpenSslAead(_key, encrypting: true);
        _platformChaCha = new ChaCha20Poly1305(_key);
        _chaChaSealer = new OpenSslAead(_key, encrypting: true, chaCha: true);
        _managed = new Apps.Tls.Engine.SmallRecordGcm(true);
        _managed.SetKey(_key);
        _sealed = new byte[Size + 1 + 16];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _platform.Dispose();
        _sealer.Dispose();
        _platformChaCha.Dispose();
        _chaChaSealer.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void CopyThenAesGcm()
    {
        _nonce[11]++; // a new nonce per record, as TLS has (BouncyCastle refuses a repeated one)
        _content.CopyTo(_record, 0);
        _record[^1] = 23;
        _platform.Encrypt(_nonce, _record, _record, _tag, _aad);
    }

    [Benchmark]
    public void CopyThenManagedGcm()
    {
        _nonce[11]++;
        _content.CopyTo(_record, 0);
        _record[^1] = 23;
        _managed.Seal(_nonce, _aad, _record, _sealed);
    }

    [Benchmark]
    public void OpenSslInTwoPieces()
    {
        _nonce[11]++;
        byte type = 23;
        _sealer.Seal(_nonce, _aad, _content, new ReadOnlySpan<byte>(in type), _record, _tag);
    }

    [Benchmark]
    public void ChaChaCopyThenDotNet()
    {
        _nonce[11]++;
        _content.CopyTo(_record, 0);
        _record[^1] = 23;
        _platformChaCha.Encrypt(_nonce, _record, _record, _tag, _aad);
    }

    [Benchmark]
    public void ChaChaOpenSslInTwoPieces()
    {
        _nonce[11]++;
        byte type = 23;
        _chaChaSealer.Seal(_nonce, _aad, _content, new ReadOnlySpan<byte>(in type), _record, _tag);
    }
}
