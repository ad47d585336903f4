using System.Buffers;
using System.Collections.Concurrent;

namespace Apps.Stack;

/// <summary>
/// The single event loop of one stack: a dedicated thread that runs, one at a time, inbound frames,
/// commands posted from API calls on any thread, and timer ticks; after each it polls the protocol
/// cores and re-arms one <see cref="TimeProvider"/> timer for their earliest deadline.
/// </summary>
/// <remarks>
/// The cores never see a clock: <see cref="Now"/> (elapsed time on the injected TimeProvider since the
/// loop started) is passed into every call. Inbound frames are bounded by <c>maxQueuedFrames</c>;
/// commands are not (callers are our own API and wait for their result).
/// </remarks>
internal sealed class StackLoop : IDisposable
{
    private readonly ConcurrentQueue<WorkItem> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly Func<TimeSpan, TimeSpan> _poll;
    private readonly Action<ReadOnlySpan<byte>, TimeSpan> _frame;
    private readonly int _maxQueuedFrames;
    private readonly StackCounters _counters;
    private readonly Action<Exception> _onError;
    private readonly ITimer _timer;
    private readonly Thread _thread;
    private readonly object _idleLock = new();
    private readonly ManualResetEventSlim _idle = new(true);
    private int _pending;
    private int _queuedFrames;
    private TimeSpan _armedFor = TimeSpan.MaxValue;
    private volatile bool _stopping;

    private readonly record struct WorkItem(byte[]? Frame, int Length, Action<TimeSpan>? Work);

    /// <param name="name">Thread name.</param>
    /// <param name="time">The clock.</param>
    /// <param name="poll">Runs due timers at <c>now</c> and returns the next deadline.</param>
    /// <param name="frame">Processes one inbound frame.</param>
    /// <param name="maxQueuedFrames">Bound on queued inbound frames.</param>
    /// <param name="counters">Counts frames dropped because the queue was full.</param>
    /// <param name="onError">Told about an exception a core threw (a bug), after it is counted.</param>
    public StackLoop(string name, TimeProvider time, Func<TimeSpan, TimeSpan> poll, Action<ReadOnlySpan<byte>, TimeSpan> frame, int maxQueuedFrames, StackCounters counters, Action<Exception> onError)
    {
        _onError = onError;
        _time = time;
        _start = time.GetTimestamp();
        _poll = poll;
        _frame = frame;
        _maxQueuedFrames = maxQueuedFrames;
        _counters = counters;
        _timer = time.CreateTimer(_ => Post(_ => _armedFor = TimeSpan.MinValue), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _thread = new Thread(Run) { IsBackground = true, Name = $"Apps.Stack loop {name}" };
        _thread.Start();
    }

    /// <summary>Time since the loop started, on the injected clock.</summary>
    public TimeSpan Now => _time.GetElapsedTime(_start);

    /// <summary>The last exception a core threw on the loop (each is also counted as a drop).</summary>
    public Exception? LastError { get; private set; }

    /// <summary>True when called on the loop thread.</summary>
    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>Queues a copy of an inbound frame; drops it (counted) when the queue is full.</summary>
    public void PostFrame(ReadOnlySpan<byte> frame)
    {
        if (_stopping)
            return;
        if (Interlocked.Increment(ref _queuedFrames) > _maxQueuedFrames)
        {
            Interlocked.Decrement(ref _queuedFrames);
            _counters.CountDrop(DropReason.QueueFull);
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(frame.Length);
        frame.CopyTo(buffer);
        Enqueue(new WorkItem(buffer, frame.Length, null));
    }

    /// <summary>Runs <paramref name="work"/> on the loop thread.</summary>
    public void Post(Action<TimeSpan> work) => Enqueue(new WorkItem(null, 0, work));

    /// <summary>Runs <paramref name="work"/> on the loop thread and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<TimeSpan, T> work)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(now =>
        {
            try
            {
                tcs.TrySetResult(work(now));
            }
            catch (Exception e)
            {
                tcs.TrySetException(e);
            }
        });
        if (_stopping)
            tcs.TrySetException(new ObjectDisposedException(nameof(NetworkStack)));
        return tcs.Task;
    }

    /// <summary>
    /// Blocks until no work is queued or running (for tests driving virtual time), or the real-time
    /// <paramref name="timeout"/> passes. Returns whether the loop went idle.
    /// </summary>
    public bool WaitIdle(TimeSpan timeout) => _idle.Wait(timeout);

    private void Enqueue(WorkItem item)
    {
        lock (_idleLock)
        {
            _pending++;
            _idle.Reset();
        }
        _queue.Enqueue(item);
        _signal.Release();
    }

    private void Run()
    {
        while (true)
        {
            _signal.Wait();
            if (_stopping)
                break;
            if (!_queue.TryDequeue(out var item))
                continue;
            var now = Now;
            try
            {
                if (item.Frame is { } frame)
                {
                    Interlocked.Decrement(ref _queuedFrames);
                    _frame(frame.AsSpan(0, item.Length), now);
                    ArrayPool<byte>.Shared.Return(frame);
                }
                else
                {
                    item.Work!(now);
                }
                Rearm(_poll(Now));
            }
            catch (Exception e)
            {
                // A bug in a core must not take the process down with it: the packet or command is
                // dropped, counted, and kept for diagnosis.
                LastError = e;
                _counters.CountDrop(DropReason.Malformed);
                _armedFor = TimeSpan.MinValue;
                _onError(e);
            }
            finally
            {
                lock (_idleLock)
                {
                    if (--_pending == 0)
                        _idle.Set();
                }
            }
        }
        while (_queue.TryDequeue(out var left))
            if (left.Frame is { } frame)
                ArrayPool<byte>.Shared.Return(frame);
        lock (_idleLock)
        {
            _pending = 0;
            _idle.Set();
        }
    }

    private void Rearm(TimeSpan deadline)
    {
        if (deadline == _armedFor)
            return;
        _armedFor = deadline;
        if (deadline == TimeSpan.MaxValue)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var due = deadline - Now;
        // A deadline already due is polled again after at least 1 ms, so a core that keeps reporting
        // "now" cannot spin the loop.
        _timer.Change(due < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Stops the thread; queued work is discarded.</summary>
    public void Dispose()
    {
        if (_stopping)
            return;
        _stopping = true;
        _timer.Dispose();
        _signal.Release();
        if (!IsLoopThread)
            _thread.Join();
    }
}
