using Apps.Stack.Netif;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Stack.Tests;

/// <summary>
/// Stacks on an <see cref="InMemorySwitch"/> under one virtual clock. <see cref="RunAsync{T}"/> lets every
/// loop go idle, then advances virtual time a step, until the awaited operation completes.
/// </summary>
internal sealed class SimulatedNetwork : IDisposable
{
    private readonly List<NetworkStack> _stacks = [];
    private int _nextSeed = 100;

    public SimulatedNetwork(int seed = 1)
    {
        Switch = new InMemorySwitch(Time, seed);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

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
