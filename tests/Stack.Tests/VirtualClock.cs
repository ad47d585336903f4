using Microsoft.Extensions.Time.Testing;

namespace Apps.Stack.Tests;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that knows when its next timer is due, so a simulation can jump
/// straight to it instead of creeping forward in small steps (smoltcp's netsim does the same).
/// </summary>
internal sealed class VirtualClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly object _lock = new();
    private readonly HashSet<TrackedTimer> _armed = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new TrackedTimer(this, base.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Time until the earliest armed timer fires (zero if one is already due), or null when none is armed.</summary>
    public TimeSpan? UntilNextTimer()
    {
        var now = GetUtcNow();
        DateTimeOffset? next = null;
        lock (_lock)
        {
            List<TrackedTimer>? spent = null;
            foreach (var timer in _armed)
            {
                if (timer.NextDue(now) is not { } due)
                {
                    (spent ??= []).Add(timer);
                    continue;
                }
                if (next is null || due < next) next = due;
            }
            if (spent is not null)
                foreach (var timer in spent) _armed.Remove(timer);
        }
        return next is { } n ? (n > now ? n - now : TimeSpan.Zero) : null;
    }

    private void Track(TrackedTimer timer, bool armed)
    {
        lock (_lock)
        {
            if (armed) _armed.Add(timer);
            else _armed.Remove(timer);
        }
    }

    // Records the schedule given to Change, then forwards it to FakeTimeProvider's own timer.
    private sealed class TrackedTimer(VirtualClock clock, ITimer inner) : ITimer
    {
        private readonly object _lock = new();
        private DateTimeOffset _due;
        private TimeSpan _period;

        /// <summary>When this timer fires next, seen from <paramref name="now"/>; null once a one-shot timer has fired.</summary>
        public DateTimeOffset? NextDue(DateTimeOffset now)
        {
            lock (_lock)
            {
                if (_due >= now) return _due;
                if (_period <= TimeSpan.Zero) return null;
                long periods = (now - _due).Ticks / _period.Ticks + 1;
                return _due + _period * periods;
            }
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool armed = dueTime != Timeout.InfiniteTimeSpan;
            lock (_lock)
            {
                _due = armed ? clock.GetUtcNow() + dueTime : DateTimeOffset.MaxValue;
                _period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
            }
            clock.Track(this, armed);
            return inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            clock.Track(this, armed: false);
            inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
