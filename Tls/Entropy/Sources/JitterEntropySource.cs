using System.Diagnostics;

namespace Apps.Tls.Entropy.Sources;

/// <summary>
/// CPU timing jitter, after jitter-entropy: the time a memory-touching loop takes varies with
/// caches, TLBs, pipelines, interrupts and frequency changes. Each event is the low byte of 32
/// timing deltas; the accumulator's hashing does the conditioning.
/// </summary>
/// <remarks>
/// Two health tests run on every sample, in the spirit of SP 800-90B §4.4 (the same tests
/// jitter-entropy uses): a repetition count test (the same delta far too often in a row) and a
/// stuck test (deltas whose first and second differences are zero). A timer too coarse to show
/// jitter fails the source instead of feeding it predictable bytes.
/// </remarks>
public sealed class JitterEntropySource : EntropySource
{
    private const int MemoryBytes = 64 * 1024;
    private const int Samples = Fortuna.MaxEventBytes;
    private const int RepetitionCutoff = 16;

    private readonly byte[] _memory = new byte[MemoryBytes];
    private readonly Func<long> _timestamp;
    private int _position;

    public JitterEntropySource() : this(Stopwatch.GetTimestamp) { }

    /// <summary>For tests: a timestamp function to show how the health tests judge a bad timer.</summary>
    internal JitterEntropySource(Func<long> timestamp) => _timestamp = timestamp;

    public override string Name => "jitter";

    public override byte SourceId => EntropySourceIds.CpuJitter;

    public override TimeSpan Interval => TimeSpan.FromMilliseconds(500);

    public override string Description => "CPU timing jitter around a memory-touching loop";

    public override string? UnavailableReason =>
        Stopwatch.IsHighResolution ? null : "no high-resolution timer";

    public override ValueTask<int> GatherAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Span<byte> output = buffer.Span[..Samples];
        long previousDelta = 0, previousDelta2 = 0;
        int repeats = 0, stuck = 0;
        for (int i = 0; i < Samples; i++)
        {
            long start = _timestamp();
            TouchMemory((int)(previousDelta & 7) + 1);
            long delta = _timestamp() - start;

            long delta2 = delta - previousDelta;
            long delta3 = delta2 - previousDelta2;
            if (delta == 0 || delta2 == 0 || delta3 == 0)
            {
                stuck++;
            }
            repeats = delta == previousDelta ? repeats + 1 : 0;
            if (repeats >= RepetitionCutoff)
            {
                throw new EntropySourceException($"timer jitter failed the repetition count test ({repeats} identical deltas in a row)");
            }
            output[i] = (byte)(delta ^ (delta >> 8));
            previousDelta2 = delta2;
            previousDelta = delta;
        }
        if (stuck > Samples * 3 / 4)
        {
            throw new EntropySourceException($"timer jitter is stuck ({stuck} of {Samples} samples show no variation); the clock is too coarse");
        }
        return ValueTask.FromResult(Samples);
    }

    // Walks the buffer with a cache-line stride, so that the loop's time depends on the memory system.
    private void TouchMemory(int rounds)
    {
        byte[] memory = _memory;
        int p = _position;
        for (int r = 0; r < rounds * 64; r++)
        {
            p = (p + 64 + 7 * r) & (MemoryBytes - 1);
            memory[p] = (byte)(memory[p] + 1 + memory[(p + 4096) & (MemoryBytes - 1)]);
        }
        _position = p;
    }
}
