using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Apps.Tls.Adapters;

/// <summary>
/// Where a handshake's costly step (key exchange and signature) runs when its flight arrived on an event loop: on at
/// most <see cref="Concurrency"/> thread-pool threads at once, each of which, once started, takes queued handshakes one
/// after another. A burst of new connections then waits in this queue, not in the pool's: the pool's other work
/// (Kestrel's HTTP/2 streams) is not queued behind hundreds of key exchanges, and, with fewer lane threads than the
/// pool's minimum, the pool never has every thread busy and never waits the half second it takes to add one.
/// </summary>
/// <remarks><c>await HandshakeLane.Enter()</c> continues in the lane, with the caller's execution context.</remarks>
public static class HandshakeLane
{
    private static readonly ConcurrentQueue<(Action Continuation, ExecutionContext? Context)> Queue = new();
    private static readonly ContextCallback RunContinuation = static state => ((Action)state!)();
    private static int _concurrency = Math.Max(1, Environment.ProcessorCount - Math.Max(1, Environment.ProcessorCount / 2));
    private static int _running;

    /// <summary>
    /// How many lane threads run at once, at least 1. By default the cores that event threads at half the cores leave
    /// (1 of 2 cores, 2 of 4); a host with N event threads sets the cores minus N. Keep it below the pool's minimum of
    /// threads (the core count), or a burst of handshakes occupies all of them.
    /// </summary>
    public static int Concurrency
    {
        get => Volatile.Read(ref _concurrency);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref _concurrency, value);
            StartRunners(value);
        }
    }

    /// <summary>Continuations queued and not yet started.</summary>
    public static int Waiting => Queue.Count;

    /// <summary>How long a lane thread runs queued work before it goes back to the end of the pool's queue (and
    /// the pool's other work gets that thread in turn). Tests set it to zero.</summary>
    internal static TimeSpan Slice { get; set; } = TimeSpan.FromMilliseconds(20);

    public static Awaiter Enter() => default;

    private static void Add(Action continuation, ExecutionContext? context)
    {
        Queue.Enqueue((continuation, context));
        StartRunners(1);
    }

    /// <summary>Starts up to <paramref name="most"/> lane threads while there is work and fewer than
    /// <see cref="Concurrency"/> run (one for each arrival, so that a single handshake wakes a single thread).</summary>
    private static void StartRunners(int most)
    {
        while (most > 0 && !Queue.IsEmpty)
        {
            var running = Volatile.Read(ref _running);
            if (running >= Concurrency)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _running, running + 1, running) == running)
            {
                QueueRun();
                most--;
            }
        }
    }

    /// <summary>A lane thread's turn, at the end of the pool's shared queue.</summary>
    private static void QueueRun() => ThreadPool.UnsafeQueueUserWorkItem(static _ => Run(), (object?)null, preferLocal: false);

    private static void Run()
    {
        var until = Stopwatch.GetTimestamp() + (long)(Slice.TotalSeconds * Stopwatch.Frequency);
        while (Queue.TryDequeue(out var item))
        {
            if (item.Context is null)
            {
                item.Continuation();
            }
            else
            {
                ExecutionContext.Run(item.Context, RunContinuation, item.Continuation);
            }

            if (Stopwatch.GetTimestamp() >= until && !Queue.IsEmpty)
            {
                // Still this lane thread's turn, taken again after the pool's other queued work.
                QueueRun();
                return;
            }
        }

        Interlocked.Decrement(ref _running);
        // Work queued between the last TryDequeue and the decrement found every lane thread running: start one for it.
        StartRunners(1);
    }

    /// <summary>Never completed at once: every await of it continues in the lane.</summary>
    public readonly struct Awaiter : ICriticalNotifyCompletion
    {
        public Awaiter GetAwaiter() => this;

        public bool IsCompleted => false;

        public void GetResult()
        {
        }

        /// <summary>Continues with the caller's execution context (captured here).</summary>
        public void OnCompleted(Action continuation) => Add(continuation, ExecutionContext.Capture());

        /// <summary>For async methods, whose continuations restore their own context.</summary>
        public void UnsafeOnCompleted(Action continuation) => Add(continuation, null);
    }
}
