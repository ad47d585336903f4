using Apps.Stack.Wire;
using BenchmarkDotNet.Attributes;

namespace Apps.Bench.Stack;

/// <summary>
/// The Internet checksum over a full-size segment: our 32-bit-word accumulator against the anchor,
/// the literal RFC 1071 §4.1 loop over 16-bit words.
/// </summary>
[MemoryDiagnoser]
public class InternetChecksumBenchmarks
{
    private byte[] _data = [];

    [Params(64, 1500, 65535)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Length];
        new Random(1).NextBytes(_data);
    }

    [Benchmark(Baseline = true)]
    public ushort Rfc1071Loop()
    {
        uint sum = 0;
        int i = 0;
        for (; i + 1 < _data.Length; i += 2)
            sum += (uint)(_data[i] << 8 | _data[i + 1]);
        if (i < _data.Length)
            sum += (uint)_data[i] << 8;
        while ((sum >> 16) != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    [Benchmark]
    public ushort Ours() => InternetChecksum.Compute(_data);
}
