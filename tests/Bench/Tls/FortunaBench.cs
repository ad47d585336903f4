using System.Security.Cryptography;
using Apps.Tls.Entropy;
using BenchmarkDotNet.Attributes;

namespace Apps.Bench.Tls;

/// <summary>
/// Fortuna against the anchor <see cref="RandomNumberGenerator.Fill"/> (OpenSSL's RAND_bytes
/// on Linux): each invocation draws 4 MiB per thread in requests of <see cref="RequestBytes"/>.
/// Goal (issue 2): Ratio at most 1.0 (as fast or faster) for 4 KiB and 1 MiB requests.
/// </summary>
[MemoryDiagnoser]
public class FortunaBench
{
    private const int BytesPerThread = 4 << 20;

    private Fortuna _fortuna = null!;

    [Params(32, 4096, 1 << 20)]
    public int RequestBytes { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _fortuna = new Fortuna(TimeProvider.System);
        _fortuna.RestoreSeed(RandomNumberGenerator.GetBytes(64));
    }

    [GlobalCleanup]
    public void Cleanup() => _fortuna.Dispose();

    [Benchmark(Baseline = true, Description = "RandomNumberGenerator.Fill")]
    public void Os() => Run(static b => RandomNumberGenerator.Fill(b));

    [Benchmark(Description = "Fortuna.Fill")]
    public void Fortuna() => Run(_fortuna.Fill);

    private void Run(SpanFill fill)
    {
        int size = RequestBytes;
        void Draw()
        {
            Span<byte> buffer = size <= 4096 ? stackalloc byte[size] : new byte[size];
            for (int done = 0; done < BytesPerThread; done += size)
            {
                fill(buffer);
            }
        }
        if (Threads == 1)
        {
            Draw();
        }
        else
        {
            var others = new Thread[Threads - 1];
            for (int i = 0; i < others.Length; i++)
            {
                others[i] = new Thread(Draw);
                others[i].Start();
            }
            Draw();
            foreach (Thread t in others)
            {
                t.Join();
            }
        }
    }

    private delegate void SpanFill(Span<byte> buffer);
}
