using System.Diagnostics.Metrics;

namespace Apps.Stack;

/// <summary>
/// Packet counters of one stack. Each increment is mirrored to the <c>Apps.Stack</c> meter
/// (<c>apps.stack.packets.in</c>, <c>apps.stack.packets.out</c>, <c>apps.stack.drops</c> tagged with
/// <c>reason</c>). Written on the stack's loop thread only; read from anywhere (values may lag).
/// </summary>
public sealed class StackCounters
{
    /// <summary>The meter name shared by every stack.</summary>
    public const string MeterName = "Apps.Stack";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> PacketsInCounter = Meter.CreateCounter<long>("apps.stack.packets.in", "{packet}", "Frames received from the interface");
    private static readonly Counter<long> PacketsOutCounter = Meter.CreateCounter<long>("apps.stack.packets.out", "{packet}", "Frames handed to the interface");
    private static readonly Counter<long> DropsCounter = Meter.CreateCounter<long>("apps.stack.drops", "{packet}", "Packets discarded, by reason");

    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];
    private long _in;
    private long _out;

    /// <summary>Frames received.</summary>
    public long PacketsIn => Volatile.Read(ref _in);

    /// <summary>Frames sent.</summary>
    public long PacketsOut => Volatile.Read(ref _out);

    /// <summary>Packets dropped for <paramref name="reason"/>.</summary>
    public long Drops(DropReason reason) => Volatile.Read(ref _drops[(int)reason]);

    /// <summary>All drops, whatever the reason.</summary>
    public long TotalDrops
    {
        get
        {
            long sum = 0;
            for (int i = 1; i < _drops.Length; i++)
                sum += Volatile.Read(ref _drops[i]);
            return sum;
        }
    }

    internal void CountIn()
    {
        Interlocked.Increment(ref _in);
        PacketsInCounter.Add(1);
    }

    internal void CountOut()
    {
        Interlocked.Increment(ref _out);
        PacketsOutCounter.Add(1);
    }

    internal void CountDrop(DropReason reason)
    {
        Interlocked.Increment(ref _drops[(int)reason]);
        if (DropsCounter.Enabled)
            DropsCounter.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var parts = new List<string> { $"in={PacketsIn}", $"out={PacketsOut}" };
        for (int i = 1; i < _drops.Length; i++)
            if (_drops[i] != 0)
                parts.Add($"drop.{(DropReason)i}={_drops[i]}");
        return string.Join(' ', parts);
    }
}
