using Apps.Stack.Netif;

namespace Apps.Stack;

/// <summary>
/// The single event loop of one stack: a dedicated thread that runs, one at a time and in arrival
/// order, inbound frames, commands posted from API calls on any thread, and timer ticks; it polls the
/// protocol cores and re-arms one <see cref="TimeProvider"/> timer for their earliest deadline.
/// </summary>
/// <remarks>
/// Read this first. Work is taken in batches: producers append to an inbox under a lock (frames are
/// copied into the inbox's pooled blocks, so a frame costs no allocation), and the loop swaps the whole
/// inbox for an empty one, runs it, and polls the cores after every <see cref="PollEvery"/> items and
/// at the end of the batch. A thread is woken only when the loop sleeps, so a burst of frames costs one
/// wake-up, and the ACKs their poll emits leave together. The cores never see a clock: <see cref="Now"/>
/// (elapsed time on the injected TimeProvider since the loop started) is passed into every call.
/// Inbound frames are bounded by <c>maxQueuedFrames</c>; commands are not (callers are our own API and
/// wait for their result).
/// A link with an <see cref="IFrameSource"/> (a TAP device) is not pushed into the inbox: the loop reads it
/// itself between batches, processes each frame in the buffer it was read into, polls the cores after every
/// <see cref="PollEvery"/> frames or <see cref="PollEveryBytes"/> bytes, and when idle sleeps in the link's
/// <see cref="IFrameSource.Wait"/>, which a frame or a posted command ends. One thread, no hand-over, no copy.
/// </remarks>
internal sealed class StackLoop : IDisposable
{
    /// <summary>Processes one inbound frame; <paramref name="checksumTrusted"/> is the link's word for its transport checksum.</summary>
    public delegate void FrameHandler(ReadOnlySpan<byte> frame, bool checksumTrusted, TimeSpan now);

    /// <summary>Items run between two polls inside a batch, so a long burst still sends ACKs as it goes.</summary>
    public const int PollEvery = 32;

    /// <summary>
    /// Bytes of frames read from the link between two polls: one offload super-frame, so that each is
    /// acknowledged as it is taken in (as Linux does after GRO) and the sender's window keeps moving.
    /// </summary>
    public const int PollEveryBytes = 64 * 1024;

    /// <summary>SpinWait rounds (busy, then yielding) an empty loop makes before it sleeps.</summary>
    private const int SpinsBeforeSleep = 20;

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly long _start;
    private readonly Func<TimeSpan, TimeSpan> _poll;
    private readonly FrameHandler _frame;
    private readonly int _maxQueuedFrames;
    private readonly long _maxQueuedBytes;
    private readonly StackCounters _counters;
    private readonly Action<Exception> _onError;
    private readonly Action<TimeSpan> _timerFired;
    private readonly ITimer _timer;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _idle = new(true);
    private readonly IFrameSource? _link;
    private readonly FrameReceiver _linkReceiver;
    private TimeSpan _linkNow;           // loop thread: the time passed with link frames being read
    private LoopInbox _inbox = new();    // filled by producers, under _gate
    private LoopInbox _running = new();  // emptied by the loop thread, outside the lock
    private bool _sleeping;              // under _gate: the loop waits for a Pulse (or in its link's Wait)
    private int _queuedFrames;           // frames posted and not yet started
    private long _queuedBytes;           // and their bytes
    private TimeSpan _armedFor = TimeSpan.MaxValue;
    private volatile bool _stopping;


    /// <param name="name">Thread name.</param>
    /// <param name="time">The clock.</param>
    /// <param name="poll">Runs due timers at <c>now</c> and returns the next deadline.</param>
    /// <param name="frame">Processes one inbound frame.</param>
    /// <param name="maxQueuedFrames">Bound on queued inbound frames.</param>
    /// <param name="maxQueuedBytes">Bound on their bytes (offload super-frames are up to 64 KiB each).</param>
    /// <param name="counters">Counts frames dropped because the queue was full.</param>
    /// <param name="onError">Told about an exception a core threw (a bug), after it is counted.</param>
    /// <param name="link">A link the loop reads itself (its frames go to <paramref name="frame"/> too), or null.</param>
    public StackLoop(string name, TimeProvider time, Func<TimeSpan, TimeSpan> poll, FrameHandler frame, int maxQueuedFrames, StackCounters counters, Action<Exception> onError, long maxQueuedBytes = long.MaxValue, IFrameSource? link = null)
    {
        _maxQueuedBytes = maxQueuedBytes;
        _onError = onError;
        _time = time;
        _start = time.GetTimestamp();
        _poll = poll;
        _frame = frame;
        _link = link;
        _linkReceiver = (ReadOnlySpan<byte> bytes, in FrameOffload offload) => frame(bytes, offload.ChecksumTrusted, _linkNow);
        _maxQueuedFrames = maxQueuedFrames;
        _counters = counters;
        _timerFired = _ => _armedFor = TimeSpan.MinValue;
        _timer = time.CreateTimer(_ => Post(_timerFired), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _thread = new Thread(Run) { IsBackground = true, Name = $"Apps.Stack loop {name}" };
        _thread.Start();
    }

    /// <summary>Time since the loop started, on the injected clock.</summary>
    public TimeSpan Now => _time.GetElapsedTime(_start);

    /// <summary>The last exception a core threw on the loop (each is also counted as a drop).</summary>
    public Exception? LastError { get; private set; }

    /// <summary>True when called on the loop thread.</summary>
    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>Whether <see cref="Dispose"/> has begun.</summary>
    internal bool IsStopping => _stopping;

    /// <summary>Queues a copy of an inbound frame; drops it (counted) when the queue is full.</summary>
    public void PostFrame(ReadOnlySpan<byte> frame, bool checksumTrusted = false)
    {
        if (_stopping)
            return;
        lock (_gate)
        {
            // Counts frames of the batch the loop is running too, until each one starts.
            if (Volatile.Read(ref _queuedFrames) >= _maxQueuedFrames || Interlocked.Read(ref _queuedBytes) + frame.Length > _maxQueuedBytes)
            {
                _counters.CountDrop(DropReason.QueueFull);
                return;
            }
            Interlocked.Increment(ref _queuedFrames);
            Interlocked.Add(ref _queuedBytes, frame.Length);
            _inbox.AddFrame(frame, checksumTrusted);
            Signal();
        }
    }

    /// <summary>Runs <paramref name="work"/> on the loop thread.</summary>
    public void Post(Action<TimeSpan> work)
    {
        lock (_gate)
        {
            _inbox.AddWork(work);
            Signal();
        }
    }

    /// <summary>Runs <paramref name="work"/> on the loop thread and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<TimeSpan, T> work)
    {
        var invocation = new Invocation<T>(work);
        Post(invocation.Run);
        if (_stopping)
            invocation.Discard(Disposed());
        return invocation.Task;
    }

    private static ObjectDisposedException Disposed() =>
        new(nameof(NetworkStack), "the network stack was disposed; create a new stack");

    /// <summary>An <see cref="InvokeAsync{T}"/> call; one still queued when the loop stops is failed, not lost.</summary>
    private interface IDiscardable
    {
        void Discard(ObjectDisposedException reason);
    }

    private sealed class Invocation<T>(Func<TimeSpan, T> work)
        : TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously), IDiscardable
    {
        public void Run(TimeSpan now)
        {
            try
            {
                TrySetResult(work(now));
            }
            catch (Exception e)
            {
                TrySetException(e);
            }
        }

        public void Discard(ObjectDisposedException reason) => TrySetException(reason);
    }

    /// <summary>
    /// Blocks until no work is queued or running (for tests driving virtual time), or the real-time
    /// <paramref name="timeout"/> passes. Returns whether the loop went idle.
    /// </summary>
    public bool WaitIdle(TimeSpan timeout) => _idle.Wait(timeout);

    // Under _gate, after adding an item.
    private void Signal()
    {
        if (_idle.IsSet)
            _idle.Reset();
        if (_sleeping)
        {
            _sleeping = false;
            if (_link is null)
                Monitor.Pulse(_gate);
            else
                _link.Interrupt();
        }
    }

    private void Run()
    {
        var spinner = new SpinWait();
        while (true)
        {
            bool work;
            lock (_gate)
            {
                if (_stopping)
                    break;
                work = _inbox.Count > 0;
                if (work)
                    (_inbox, _running) = (_running, _inbox);
            }
            if (work)
            {
                RunBatch(_running);
                _running.Clear();
            }
            if (_link is not null && ReadLink())
                work = true;
            if (work)
            {
                spinner.Reset();
                continue;
            }

            bool sleep = false;
            lock (_gate)
            {
                if (_inbox.Count > 0 || _stopping)
                    continue;
                _idle.Set();
                // A peer streaming to us refills the inbox (or the link) within microseconds: spin (and
                // yield) a little before paying for a sleep and a wake-up.
                if (spinner.Count >= SpinsBeforeSleep)
                {
                    _sleeping = sleep = true;
                    if (_link is null)
                        Monitor.Wait(_gate);
                }
            }
            if (!sleep)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            if (_link is not null)
            {
                // Signal interrupts this wait from the moment _sleeping was set, so no command is missed.
                _link.Wait();
                lock (_gate)
                    _sleeping = false;
            }
            spinner.Reset();
        }
        var discarded = new List<IDiscardable>();
        lock (_gate)
        {
            for (int i = 0; i < _inbox.Count; i++)
                if (!_inbox.TryGetFrame(i, out _) && _inbox.Work(i).Target is IDiscardable call)
                    discarded.Add(call);
            _inbox.Clear();
            _idle.Set();
        }
        // Calls posted just as the loop stopped were discarded with the inbox: fail them, so none waits forever.
        var disposed = Disposed();
        foreach (var call in discarded)
            call.Discard(disposed);
    }

    // Reads what the link holds, up to one poll's worth, processing each frame where it was read; then
    // polls the cores. Returns whether there was anything.
    private bool ReadLink()
    {
        int frames = 0, bytes = 0;
        _linkNow = Now;
        while (frames < PollEvery && bytes < PollEveryBytes)
        {
            int read;
            try
            {
                read = _link!.TryReceive(_linkReceiver);
            }
            catch (Exception e)
            {
                Failed(e);
                read = 1; // the frame was taken; go on with the next
            }
            if (read == 0)
                break;
            frames++;
            bytes += read;
        }
        if (frames == 0)
            return false;
        try
        {
            Rearm(_poll(Now));
        }
        catch (Exception e)
        {
            Failed(e);
        }
        return true;
    }

    private void RunBatch(LoopInbox batch)
    {
        var now = Now;
        for (int i = 0; i < batch.Count; i++)
        {
            try
            {
                if (batch.TryGetFrame(i, out var frame, out bool trusted))
                {
                    Interlocked.Decrement(ref _queuedFrames);
                    Interlocked.Add(ref _queuedBytes, -frame.Length);
                    _frame(frame, trusted, now);
                }
                else
                    batch.Work(i)(now);
                if ((i + 1) % PollEvery == 0 && i + 1 < batch.Count)
                {
                    Rearm(_poll(Now));
                    now = Now;
                }
            }
            catch (Exception e)
            {
                Failed(e);
            }
        }
        try
        {
            Rearm(_poll(Now));
        }
        catch (Exception e)
        {
            Failed(e);
        }
    }

    // A bug in a core must not take the process down with it: the packet or command is dropped,
    // counted, and kept for diagnosis; the timer is re-armed on the next poll.
    private void Failed(Exception e)
    {
        LastError = e;
        _counters.CountDrop(DropReason.Malformed);
        _armedFor = TimeSpan.MinValue;
        _onError(e);
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
        lock (_gate)
            Monitor.Pulse(_gate);
        _link?.Interrupt();
        if (!IsLoopThread)
            _thread.Join();
    }
}
