using Apps.Stack.Netif;

namespace Apps.Stack.Tests;

/// <summary>
/// Stacks on an <see cref="InMemorySwitch"/> under one virtual clock. <see cref="RunAsync{T}"/> lets every
/// loop go idle, then advances virtual time a step, until the awaited operation completes;
/// <see cref="DriveAsync"/> instead jumps straight to the next armed timer, so bulk transfers whose
/// retransmission timers fire thousands of times never wait in real time.
/// </summary>
internal sealed class SimulatedNetwork : IDisposable
{
    private readonly List<NetworkStack> _stacks = [];
    private int _nextSeed = 100;

    public SimulatedNetwork(int seed = 1)
    {
        Switch = new InMemorySwitch(Time, seed);
    }

    public VirtualClock Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public InMemorySwitch Switch { get; }

    public NetworkStack AddStack(string? cidr, LinkImpairments? impairments = null, string? gateway = null, bool dhcp = false, INetworkInterface? netif = null)
    {
        var random = new Random(_nextSeed++);
        var stack = new NetworkStack(netif ?? Switch.CreatePort(impairments), new NetworkStackOptions
        {
            Name = $"sim{_stacks.Count}",
            Address = cidr is null ? null : Ipv4Settings.Parse(cidr, gateway),
            UseDhcp = dhcp,
            TimeProvider = Time,
            RandomBytes = bytes => random.NextBytes(bytes),
        });
        _stacks.Add(stack);
        return stack;
    }

    /// <summary>Waits (in real time) for every loop to drain its queue.</summary>
    public async Task SettleAsync()
    {
        while (true)
        {
            foreach (var stack in _stacks)
                Assert.True(stack.Loop.WaitIdle(TimeSpan.FromSeconds(10)), "a stack loop did not go idle");
            // Let thread-pool continuations of completed operations post their follow-up work.
            await Task.Delay(1);
            bool idle = true;
            foreach (var stack in _stacks)
                idle &= stack.Loop.WaitIdle(TimeSpan.Zero);
            if (idle)
                return;
        }
    }

    /// <summary>Drives virtual time in <paramref name="step"/>s until <paramref name="task"/> ends.</summary>
    public async Task<T> RunAsync<T>(Task<T> task, TimeSpan? step = null, TimeSpan? limit = null)
    {
        await RunAsync((Task)task, step, limit);
        return await task;
    }

    public async Task RunAsync(Task task, TimeSpan? step = null, TimeSpan? limit = null)
    {
        var elapsed = TimeSpan.Zero;
        var max = limit ?? TimeSpan.FromMinutes(10);
        while (true)
        {
            await SettleAsync();
            if (task.IsCompleted)
            {
                await task;
                return;
            }
            if (elapsed > max)
                throw new TimeoutException($"still running after {max} of virtual time");
            var s = step ?? TimeSpan.FromMilliseconds(1);
            Time.Advance(s);
            elapsed += s;
        }
    }

    /// <summary>
    /// Runs until <paramref name="task"/> ends: whenever every loop is idle and no frame moved, virtual
    /// time jumps straight to the next armed timer (a loop's deadline or a frame the switch holds back).
    /// With no timer armed it waits in real time for the application's tasks instead. Fails after
    /// <paramref name="limit"/> of virtual time, or when nothing at all happens for two real minutes.
    /// </summary>
    /// <remarks>
    /// Thread-pool continuations (pipe readers and writers) are invisible to the idle check, so a short
    /// jump may come early; that only moves a timer, never the data. A jump of over a second (which could
    /// reach an idle or TIME-WAIT limit) is taken only after the network stayed quiet for a few real
    /// milliseconds.
    /// </remarks>
    public async Task DriveAsync(Task task, TimeSpan limit)
    {
        var start = Time.GetUtcNow();
        var stalledSince = Environment.TickCount64;
        long lastDelivered = -1;
        while (!task.IsCompleted)
        {
            if (Switch.Delivered != lastDelivered)
            {
                lastDelivered = Switch.Delivered;
                stalledSince = Environment.TickCount64;
            }
            else if (Environment.TickCount64 - stalledSince > 120_000)
            {
                throw new TimeoutException("no frame moved for two minutes of real time");
            }
            // A loop busy with a bulk transfer may not idle for a long time: wait in slices, never assert.
            bool idle = true;
            foreach (var stack in _stacks)
                idle &= stack.Loop.WaitIdle(TimeSpan.FromMilliseconds(20));
            if (!idle)
                continue;
            long delivered = Switch.Delivered;
            await Task.Yield();
            if (task.IsCompleted || !AllIdle() || Switch.Delivered != delivered)
                continue;
            if (Time.UntilNextTimer() is not { } next)
            {
                await Task.Delay(1);
                continue;
            }
            if (next > TimeSpan.FromSeconds(1) && !await QuietForAsync(TimeSpan.FromMilliseconds(5), delivered))
                continue;
            if (Time.GetUtcNow() - start > limit)
                throw new TimeoutException($"still running after {limit} of virtual time");
            Time.Advance(next > TimeSpan.Zero ? next : TimeSpan.FromTicks(1));
        }
        await task;
    }

    private async Task<bool> QuietForAsync(TimeSpan span, long delivered)
    {
        for (int i = 0; i < 3; i++)
        {
            await Task.Delay(span);
            if (!AllIdle() || Switch.Delivered != delivered)
                return false;
        }
        return true;
    }

    private bool AllIdle()
    {
        foreach (var stack in _stacks)
            if (!stack.Loop.WaitIdle(TimeSpan.Zero))
                return false;
        return true;
    }

    /// <summary>Advances virtual time by <paramref name="span"/>, settling between steps.</summary>
    public async Task AdvanceAsync(TimeSpan span, TimeSpan? step = null)
    {
        var s = step ?? TimeSpan.FromMilliseconds(10);
        for (var t = TimeSpan.Zero; t < span; t += s)
        {
            await SettleAsync();
            Time.Advance(s);
        }
        await SettleAsync();
    }

    public void Dispose()
    {
        foreach (var stack in _stacks)
            stack.Dispose();
    }
}
