using System.Collections.Concurrent;
using Apps.Stack.Netif;

namespace Apps.Stack.Tests.Loop;

/// <summary>A <see cref="StackLoop"/> that reads its link itself (<see cref="IFrameSource"/>), as it reads a TAP device.</summary>
public class FrameSourceLoopTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Frames_are_read_and_handled_on_the_loop_thread_in_arrival_order()
    {
        var link = new QueuedFrameSource();
        var seen = new ConcurrentQueue<(byte Frame, bool OnLoop, bool Trusted)>();
        StackLoop? loop = null;
        using var started = new ManualResetEventSlim();
        using var _ = loop = new StackLoop("test", TimeProvider.System, _ => TimeSpan.MaxValue,
            (frame, trusted, _) =>
            {
                started.Wait();
                seen.Enqueue((frame[0], loop!.IsLoopThread, trusted));
            }, 64, new StackCounters(), _ => { }, link: link);
        started.Set();

        for (byte i = 0; i < 100; i++)
            link.Arrive([i], new FrameOffload { ChecksumTrusted = i % 2 == 0 });
        await WaitUntilAsync(() => seen.Count == 100);

        Assert.Equal(Enumerable.Range(0, 100).Select(i => (byte)i), seen.Select(s => s.Frame));
        Assert.All(seen, s => Assert.True(s.OnLoop));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i % 2 == 0), seen.Select(s => s.Trusted));
    }

    [Fact]
    public async Task A_command_posted_while_the_loop_sleeps_on_its_link_wakes_it()
    {
        var link = new QueuedFrameSource();
        using var loop = new StackLoop("test", TimeProvider.System, _ => TimeSpan.MaxValue, (_, _, _) => { }, 64,
            new StackCounters(), _ => { }, link: link);
        await WaitUntilAsync(() => link.Waiting);

        Assert.Equal(42, await loop.InvokeAsync(_ => 42).WaitAsync(Long));
        Assert.True(link.Interrupts >= 1);
    }

    [Fact]
    public async Task The_cores_are_polled_after_each_super_frame_worth_of_link_bytes()
    {
        var link = new QueuedFrameSource();
        for (int i = 0; i < 4; i++)
            link.Arrive(new byte[40_000], default); // two of them pass StackLoop.PollEveryBytes
        var steps = new ConcurrentQueue<string>();
        using var loop = new StackLoop("test", TimeProvider.System,
            _ =>
            {
                steps.Enqueue("poll");
                return TimeSpan.MaxValue;
            },
            (_, _, _) => steps.Enqueue("frame"), 64, new StackCounters(), _ => { }, link: link);
        await WaitUntilAsync(() => steps.Count(s => s == "poll") == 2);

        Assert.Equal(["frame", "frame", "poll", "frame", "frame", "poll"], steps);
    }

    [Fact]
    public async Task A_core_exception_on_a_link_frame_is_counted_and_the_next_frame_still_runs()
    {
        var link = new QueuedFrameSource();
        var counters = new StackCounters();
        var seen = new ConcurrentQueue<byte>();
        using var loop = new StackLoop("test", TimeProvider.System, _ => TimeSpan.MaxValue,
            (frame, _, _) =>
            {
                if (frame[0] == 1)
                    throw new InvalidOperationException("a bug in a core");
                seen.Enqueue(frame[0]);
            }, 64, counters, _ => { }, link: link);

        link.Arrive([0], default);
        link.Arrive([1], default);
        link.Arrive([2], default);
        await WaitUntilAsync(() => seen.Count == 2);

        Assert.Equal(new byte[] { 0, 2 }, seen);
        Assert.Equal(1, counters.Drops(DropReason.Malformed));
        Assert.IsType<InvalidOperationException>(loop.LastError);
    }

    [Fact]
    public async Task Dispose_ends_a_loop_that_sleeps_on_its_link()
    {
        var link = new QueuedFrameSource();
        var loop = new StackLoop("test", TimeProvider.System, _ => TimeSpan.MaxValue, (_, _, _) => { }, 64,
            new StackCounters(), _ => { }, link: link);
        await WaitUntilAsync(() => link.Waiting);

        await Task.Run(loop.Dispose).WaitAsync(Long);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => loop.InvokeAsync(_ => 0).WaitAsync(Long));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Long;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the loop did not get there within a minute");
            await Task.Delay(5);
        }
    }

    /// <summary>A link whose frames "arrive" from the test: a queue, and a semaphore for readiness and interrupts.</summary>
    private sealed class QueuedFrameSource : IFrameSource
    {
        private readonly ConcurrentQueue<(byte[] Frame, FrameOffload Offload)> _frames = new();
        private readonly SemaphoreSlim _ready = new(0);
        private volatile bool _waiting;
        private int _interrupts;

        public bool Waiting => _waiting;

        public int Interrupts => Volatile.Read(ref _interrupts);

        public void Arrive(byte[] frame, FrameOffload offload)
        {
            _frames.Enqueue((frame, offload));
            _ready.Release();
        }

        public int TryReceive(FrameReceiver receiver)
        {
            if (!_frames.TryDequeue(out var next))
                return 0;
            receiver(next.Frame, next.Offload);
            return next.Frame.Length;
        }

        public void Wait()
        {
            _waiting = true;
            _ready.Wait();
            _waiting = false;
        }

        public void Interrupt()
        {
            Interlocked.Increment(ref _interrupts);
            _ready.Release();
        }
    }
}
