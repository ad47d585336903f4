namespace Apps.Stack.Tests.Loop;

public class StackLoopTests
{
    [Fact]
    public async Task Work_posted_from_many_threads_runs_one_item_at_a_time_and_in_order_per_thread()
    {
        int running = 0, overlaps = 0;
        var order = new List<(int Thread, int Item)>();
        using var loop = NewLoop((_, _) => { });
        const int Threads = 4, Items = 2000;
        var posters = Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < Items; i++)
            {
                int item = i;
                loop.Post(_ =>
                {
                    if (Interlocked.Increment(ref running) != 1)
                        overlaps++;
                    order.Add((t, item));
                    Interlocked.Decrement(ref running);
                });
            }
        })).ToArray();
        await Task.WhenAll(posters);
        Assert.True(await loop.InvokeAsync(_ => true).WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal(0, overlaps);
        Assert.Equal(Threads * Items, order.Count);
        for (int t = 0; t < Threads; t++)
        {
            var mine = order.Where(o => o.Thread == t).Select(o => o.Item).ToList();
            Assert.Equal(Enumerable.Range(0, Items), mine);
        }
    }

    [Fact]
    public async Task Frames_and_commands_run_in_the_order_they_were_posted()
    {
        var seen = new List<string>();
        using var loop = NewLoop((frame, _) => seen.Add($"frame {frame[0]}"));
        using var gate = new ManualResetEventSlim();
        var blocked = loop.InvokeAsync(_ => gate.Wait(TimeSpan.FromSeconds(30)));
        for (byte i = 0; i < 50; i++)
        {
            loop.PostFrame([i]);
            byte n = i;
            loop.Post(_ => seen.Add($"command {n}"));
        }
        gate.Set();
        Assert.True(await blocked.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(loop.WaitIdle(TimeSpan.FromSeconds(60)));

        var expected = Enumerable.Range(0, 50).SelectMany(i => new[] { $"frame {i}", $"command {i}" });
        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task A_call_queued_when_the_loop_stops_fails_instead_of_waiting_forever()
    {
        var loop = NewLoop((_, _) => { });
        using var gate = new ManualResetEventSlim();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var blocked = loop.InvokeAsync(_ =>
        {
            running.SetResult();
            return gate.Wait(TimeSpan.FromSeconds(30));
        });
        await running.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var queued = loop.InvokeAsync(_ => 42); // behind the blocked call, before the loop stops

        var disposing = Task.Run(loop.Dispose);
        while (!loop.IsStopping)
            await Task.Yield();
        gate.Set();
        await disposing.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(await blocked.WaitAsync(TimeSpan.FromSeconds(60)));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => queued.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task Queued_frames_are_bounded_by_bytes_as_well_as_by_count()
    {
        var counters = new StackCounters();
        int handled = 0;
        using var loop = new StackLoop("test", TimeProvider.System, _ => TimeSpan.MaxValue,
            (_, _, _) => handled++, 4096, counters, _ => { }, maxQueuedBytes: 200_000);
        using var gate = new ManualResetEventSlim();
        var blocked = loop.InvokeAsync(_ => gate.Wait(TimeSpan.FromSeconds(30)));
        var superFrame = new byte[65_000];
        for (int i = 0; i < 5; i++)
            loop.PostFrame(superFrame, checksumTrusted: true);
        gate.Set();
        await blocked.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(loop.WaitIdle(TimeSpan.FromSeconds(60)));

        Assert.Equal(3, handled); // 3 x 65000 fit in 200000 bytes, the next two did not
        Assert.Equal(2, counters.Drops(DropReason.QueueFull));
        loop.PostFrame(superFrame); // the queue drained: room again
        Assert.True(loop.WaitIdle(TimeSpan.FromSeconds(60)));
        Assert.Equal(4, handled);
    }

    [Fact]
    public async Task A_core_exception_is_counted_and_the_rest_of_the_batch_still_runs()
    {
        var counters = new StackCounters();
        var seen = new List<byte>();
        using var loop = new StackLoop("test", TimeProvider.System, _ => TimeSpan.MaxValue,
            (frame, _, _) =>
            {
                if (frame[0] == 1)
                    throw new InvalidOperationException("a bug in a core");
                seen.Add(frame[0]);
            }, 64, counters, _ => { });
        using var gate = new ManualResetEventSlim();
        var blocked = loop.InvokeAsync(_ => gate.Wait(TimeSpan.FromSeconds(30)));
        loop.PostFrame([0]);
        loop.PostFrame([1]);
        loop.PostFrame([2]);
        gate.Set();
        await blocked.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(loop.WaitIdle(TimeSpan.FromSeconds(60)));

        Assert.Equal(new byte[] { 0, 2 }, seen);
        Assert.Equal(1, counters.Drops(DropReason.Malformed));
        Assert.IsType<InvalidOperationException>(loop.LastError);
    }

    private static StackLoop NewLoop(Action<ReadOnlySpan<byte>, TimeSpan> frame) =>
        new("test", TimeProvider.System, _ => TimeSpan.MaxValue, (f, _, now) => frame(f, now), 4096, new StackCounters(), _ => { });
}
