using Apps.Tls.Adapters;

namespace Apps.Tls.Tests.Adapters;

/// <summary>
/// The handshake lane runs what is awaited into it on pool threads, never more at once than its concurrency, every item
/// once, with the caller's execution context; a lane thread whose slice is up goes back to the pool's queue and the
/// rest still runs.
/// </summary>
public class HandshakeLaneTests
{
    [Theory]
    [InlineData(1, 20)]
    [InlineData(2, 20)]
    [InlineData(2, 0)] // every item ends its thread's slice: the lane re-queues itself each time
    public async Task No_more_run_at_once_than_the_concurrency_and_every_item_runs_once(int concurrency, int sliceMilliseconds)
    {
        // Enough pool threads that an unbounded lane would run several of the items at once.
        ThreadPool.GetMinThreads(out var workers, out var ports);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), ports);
        var before = (HandshakeLane.Concurrency, HandshakeLane.Slice);
        HandshakeLane.Concurrency = concurrency;
        HandshakeLane.Slice = TimeSpan.FromMilliseconds(sliceMilliseconds);
        try
        {
            var inside = 0;
            var most = 0;
            var ran = new int[24];
            var offPool = 0;

            async Task Item(int index)
            {
                await HandshakeLane.Enter();
                if (!Thread.CurrentThread.IsThreadPoolThread)
                {
                    Interlocked.Increment(ref offPool);
                }

                var now = Interlocked.Increment(ref inside);
                InterlockedMax(ref most, now);
                Thread.Sleep(5); // a key exchange's worth of work
                Interlocked.Increment(ref ran[index]);
                Interlocked.Decrement(ref inside);
            }

            // Arriving from a thread that is not the pool's, as flights from an event loop do.
            var items = new Task[ran.Length];
            var arrivals = new Thread(() =>
            {
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = Item(i);
                }
            });
            arrivals.Start();
            arrivals.Join();
            await Task.WhenAll(items).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.All(ran, count => Assert.Equal(1, count));
            Assert.InRange(most, 1, concurrency);
            Assert.Equal(0, offPool);
        }
        finally
        {
            (HandshakeLane.Concurrency, HandshakeLane.Slice) = before;
            ThreadPool.SetMinThreads(workers, ports);
        }
    }

    [Fact]
    public async Task Raising_the_concurrency_lets_waiting_items_start()
    {
        var before = HandshakeLane.Concurrency;
        HandshakeLane.Concurrency = 1;
        using var release = new ManualResetEventSlim();
        try
        {
            var started = new SemaphoreSlim(0);

            async Task Blocked()
            {
                await HandshakeLane.Enter();
                started.Release();
                release.Wait(TimeSpan.FromSeconds(30));
            }

            var first = Task.Run(Blocked);
            Assert.True(await started.WaitAsync(TimeSpan.FromSeconds(10)), "the first item did not start");
            var second = Task.Run(Blocked);
            // The second waits behind the first until there is room for it.
            var queued = Task.Run(async () =>
            {
                while (HandshakeLane.Waiting == 0)
                {
                    await Task.Delay(1);
                }
            });
            await queued.WaitAsync(TimeSpan.FromSeconds(10));

            HandshakeLane.Concurrency = 2;

            Assert.True(await started.WaitAsync(TimeSpan.FromSeconds(10)), "raising the concurrency left the second item waiting");
            release.Set();
            await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            release.Set(); // never leave a lane thread blocked for the tests that follow
            HandshakeLane.Concurrency = before;
        }
    }

    [Fact]
    public async Task The_callers_execution_context_flows_into_the_lane()
    {
        var local = new AsyncLocal<string>();
        Task<string?>? awaited = null;
        string? seenByCallback = null;
        var callback = new TaskCompletionSource();

        var caller = new Thread(() =>
        {
            local.Value = "caller";
            // Both ways in: an async method's await (which restores its own context) and OnCompleted (which captures it).
            awaited = Task.Run<string?>(async () =>
            {
                await HandshakeLane.Enter();
                return local.Value;
            });
            HandshakeLane.Enter().OnCompleted(() =>
            {
                seenByCallback = local.Value;
                callback.SetResult();
            });
        });
        caller.Start();
        caller.Join();
        await callback.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("caller", await awaited!.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("caller", seenByCallback);
    }

    [Fact]
    public void A_concurrency_below_one_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => HandshakeLane.Concurrency = 0);

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
