using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Http.Service.Tests;

/// <summary>When the service gives memory back (after load, once idle) and that the trim really returns it.</summary>
public sealed class IdleMemoryTrimTests
{
    private const long MiB = 1 << 20;

    [Fact]
    public async Task Trims_once_when_load_stops_and_not_again_while_idle()
    {
        long allocated = 0;
        await using var trim = new IdleMemoryTrim(new FakeTimeProvider(), NullLogger(), () => allocated, _ => throw new InvalidOperationException("the loop must not run"));

        var decisions = new List<bool>();
        foreach (var step in new[] { 30 * MiB, 30 * MiB, 30 * MiB, 1 * MiB, 1 * MiB, 0, 2 * MiB })
        {
            allocated += step;
            decisions.Add(trim.Observe(allocated));
        }

        Assert.Equal([false, false, false, true, false, false, false], decisions);
    }

    [Fact]
    public async Task Steady_load_never_trims()
    {
        await using var trim = new IdleMemoryTrim(new FakeTimeProvider(), NullLogger(), () => 0, _ => throw new InvalidOperationException());

        var trims = Enumerable.Range(1, 100).Count(i => trim.Observe(i * IdleMemoryTrim.IdleAllocation));

        Assert.Equal(0, trims);
    }

    [Fact]
    public async Task Light_load_trims_at_most_once_per_TrimAfter_allocated()
    {
        await using var trim = new IdleMemoryTrim(new FakeTimeProvider(), NullLogger(), () => 0, _ => throw new InvalidOperationException());
        const long perInterval = 3 * MiB;

        var trims = Enumerable.Range(1, 100).Count(i => trim.Observe(i * perInterval));

        Assert.Equal(100 * perInterval / IdleMemoryTrim.TrimAfter, trims);
    }

    [Fact]
    public async Task Loop_trims_on_its_interval_logs_it_and_stops_on_dispose()
    {
        var time = new FakeTimeProvider();
        long allocated = 0;
        var trimmed = new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringWriter();
        using var logs = new ConsoleLogProvider(TextWriter.Synchronized(output));
        var trim = new IdleMemoryTrim(time, logs.CreateLogger("Apps.Http.Service"), () => Interlocked.Read(ref allocated), at =>
        {
            trimmed.TrySetResult(at);
            return new MemoryTrimResult(at, 200 * MiB, 100 * MiB, TimeSpan.FromMilliseconds(18));
        });

        Interlocked.Add(ref allocated, 100 * MiB);
        time.Advance(IdleMemoryTrim.Interval);
        Assert.False(trimmed.Task.IsCompleted, "busy: 100 MiB in the interval");
        time.Advance(IdleMemoryTrim.Interval);
        var at = await trimmed.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(time.GetUtcNow(), at);
        await WaitUntil(() => trim.Last is not null);
        Assert.Equal(100 * MiB, trim.Last!.ResidentAfter);
        await WaitUntil(() => output.ToString().Contains("gave memory back, 200 MB resident to 100 MB", StringComparison.Ordinal));
        await trim.DisposeAsync();
    }

    [Fact]
    public void TrimNow_returns_memory_the_process_no_longer_uses()
    {
        var before = HoldAndDrop(256 * MiB);
        Assert.True(before > 256 * MiB, $"{before >> 20} MB resident while holding 256 MiB");

        var result = IdleMemoryTrim.TrimNow(DateTimeOffset.UnixEpoch);

        var info = GC.GetGCMemoryInfo();
        Assert.True(result.ResidentAfter < result.ResidentBefore - 128 * MiB,
            $"resident {result.ResidentBefore >> 20} MB before the trim, {result.ResidentAfter >> 20} MB after; GC committed {info.TotalCommittedBytes >> 20} MB, heap {info.HeapSizeBytes >> 20} MB");
        Assert.Equal(DateTimeOffset.UnixEpoch, result.At);
    }

    // Memory the GC has to keep through a collection (so promoted, as a handshake burst's state is), then dropped; in a
    // method of its own, so that no stack slot of the test still refers to it. Returns the resident size while held.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long HoldAndDrop(long bytes)
    {
        var held = new List<byte[]>();
        for (long total = 0; total < bytes; total += 64 * 1024)
        {
            var block = new byte[64 * 1024];
            block.AsSpan().Fill(1);
            held.Add(block);
        }

        GC.Collect();
        GC.KeepAlive(held);
        return Environment.WorkingSet;
    }

    private static ILogger NullLogger() => Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}
