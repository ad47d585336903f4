using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Apps.Tls.Entropy.Sources;

/// <summary>The state of one entropy source.</summary>
public enum EntropySourceState
{
    /// <summary>Delivering events.</summary>
    Active,
    /// <summary>Its last poll failed; it is retried with back-off.</summary>
    Degraded,
    /// <summary>It cannot run on this machine and is not polled.</summary>
    Unavailable,
    /// <summary>Events arrive from another layer through an <see cref="EntropyEventSink"/>.</summary>
    External,
}

/// <summary>A source's health for status displays.</summary>
public sealed record EntropySourceHealth(
    string Name,
    byte SourceId,
    string Description,
    EntropySourceState State,
    long Events,
    long Bytes,
    long Failures,
    string? LastProblem,
    DateTimeOffset? LastEventAt);

/// <summary>
/// Polls each <see cref="EntropySource"/> on its own schedule and feeds Fortuna. At start it
/// takes a burst from every source (enough to fill pool 0), so the first reseed comes at once.
/// A failing source is logged, backed off (its interval doubles, up to a minute) and retried;
/// nothing a source does can stop the others or the process.
/// </summary>
public sealed class EntropyCollector : IAsyncDisposable
{
    private static readonly Counter<long> EventCounter =
        TlsTelemetry.Meter.CreateCounter<long>("apps.tls.entropy.events", description: "Entropy events fed to Fortuna, by source");

    private static readonly Counter<long> FailureCounter =
        TlsTelemetry.Meter.CreateCounter<long>("apps.tls.entropy.failures", description: "Failed polls of entropy sources, by source");

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(10);

    private readonly Fortuna _fortuna;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private readonly List<Tracked> _sources = [];
    private readonly List<EntropyEventSink> _sinks = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    public EntropyCollector(Fortuna fortuna, IEnumerable<EntropySource> sources, TimeProvider? time = null, ILogger? logger = null)
    {
        _fortuna = fortuna;
        _time = time ?? TimeProvider.System;
        _logger = logger;
        foreach (EntropySource s in sources)
        {
            _sources.Add(new Tracked(s));
        }
    }

    /// <summary>The standard sources of this machine: OS, CPU jitter, the hardware RNG when present,
    /// and a host daemon when an address is given.</summary>
    public static IReadOnlyList<EntropySource> DefaultSources(HostPlatform platform, HostEntropyAddress? hostDaemon = null)
    {
        var sources = new List<EntropySource> { new OsEntropySource(), new JitterEntropySource(), new HardwareRngSource(platform) };
        if (hostDaemon is not null)
        {
            sources.Add(new HostDaemonSource(hostDaemon));
        }
        return sources;
    }

    /// <summary>
    /// Takes the start-up burst from every available source, then polls each on its schedule
    /// in the background until disposed.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var burst = new List<Task>();
        foreach (Tracked t in _sources)
        {
            if (t.Source.UnavailableReason is { } reason)
            {
                t.State = EntropySourceState.Unavailable;
                t.LastProblem = reason;
                EntropyLog.SourceUnavailable(_logger, t.Source.Name, reason);
                continue;
            }
            burst.Add(BurstAsync(t, cancellationToken));
        }
        await Task.WhenAll(burst).ConfigureAwait(false);
        foreach (Tracked t in _sources)
        {
            if (t.State != EntropySourceState.Unavailable)
            {
                // The timer exists before StartAsync returns, so no tick of the clock is missed.
                _loops.Add(PollLoopAsync(t, new PeriodicTimer(t.CurrentInterval, _time)));
            }
        }
    }

    /// <summary>
    /// A sink through which another layer (the network stack's packet timings, an app's key
    /// presses) adds events; they appear in <see cref="Health"/> under <paramref name="name"/>.
    /// </summary>
    public EntropyEventSink CreateSink(string name, byte sourceId)
    {
        var sink = new EntropyEventSink(_fortuna, name, sourceId, _time);
        lock (_sinks)
        {
            _sinks.Add(sink);
        }
        return sink;
    }

    /// <summary>Every source's health, polled ones first.</summary>
    public IReadOnlyList<EntropySourceHealth> Health
    {
        get
        {
            var rows = new List<EntropySourceHealth>();
            foreach (Tracked t in _sources)
            {
                lock (t)
                {
                    rows.Add(new EntropySourceHealth(t.Source.Name, t.Source.SourceId, t.Source.Description, t.State,
                        t.Events, t.Bytes, t.Failures, t.LastProblem, t.LastEventAt));
                }
            }
            lock (_sinks)
            {
                foreach (EntropyEventSink s in _sinks)
                {
                    rows.Add(s.Health());
                }
            }
            return rows;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        foreach (Tracked t in _sources)
        {
            if (t.Source is IAsyncDisposable d)
            {
                await d.DisposeAsync().ConfigureAwait(false);
            }
        }
        _stop.Dispose();
    }

    private async Task BurstAsync(Tracked t, CancellationToken cancellationToken)
    {
        // Events of one source visit pool 0 every 32 events; 2 x 32 + 1 of them put at least
        // 64 bytes there, so one healthy source suffices for the first reseed.
        for (int i = 0; i < 2 * Fortuna.PoolCount + 1 && !cancellationToken.IsCancellationRequested; i++)
        {
            if (!await PollOnceAsync(t, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private async Task PollLoopAsync(Tracked t, PeriodicTimer timer)
    {
        using PeriodicTimer _ = timer;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                await PollOnceAsync(t, _stop.Token).ConfigureAwait(false);
                if (timer.Period != t.CurrentInterval)
                {
                    timer.Period = t.CurrentInterval;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Polls once; returns false when the poll failed.</summary>
    internal async Task<bool> PollOnceAsync(Tracked t, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[Fortuna.MaxEventBytes];
        using var timeout = new CancellationTokenSource(PollTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            int n = await t.Source.GatherAsync(buffer, linked.Token).ConfigureAwait(false);
            if (n > 0)
            {
                _fortuna.AddEvent(t.Source.SourceId, buffer.AsSpan(0, Math.Min(n, Fortuna.MaxEventBytes)));
                EventCounter.Add(1, new KeyValuePair<string, object?>("source", t.Source.Name));
            }
            long recoveredAfter;
            lock (t)
            {
                recoveredAfter = t.ConsecutiveFailures;
                t.ConsecutiveFailures = 0;
                t.CurrentInterval = t.Source.Interval;
                t.State = EntropySourceState.Active;
                if (n > 0)
                {
                    t.Events++;
                    t.Bytes += n;
                    t.LastEventAt = _time.GetUtcNow();
                }
            }
            if (recoveredAfter > 0)
            {
                EntropyLog.SourceRecovered(_logger, t.Source.Name, recoveredAfter);
            }
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            string reason = e is OperationCanceledException ? $"no answer within {PollTimeout.TotalSeconds:0} s" : e.Message;
            long failures;
            TimeSpan interval;
            lock (t)
            {
                t.Failures++;
                failures = ++t.ConsecutiveFailures;
                t.State = EntropySourceState.Degraded;
                t.LastProblem = reason;
                t.CurrentInterval = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, t.CurrentInterval.Ticks * 2));
                interval = t.CurrentInterval;
            }
            FailureCounter.Add(1, new KeyValuePair<string, object?>("source", t.Source.Name));
            // Log the 1st, 2nd, 4th, 8th... failure in a row: a dead source must not flood the log.
            if ((failures & (failures - 1)) == 0)
            {
                EntropyLog.SourceFailed(_logger, t.Source.Name, failures, reason, interval);
            }
            return false;
        }
    }

    internal IReadOnlyList<Tracked> TrackedSources => _sources;

    internal sealed class Tracked(EntropySource source)
    {
        internal EntropySource Source { get; } = source;
        internal EntropySourceState State = EntropySourceState.Active;
        internal long Events;
        internal long Bytes;
        internal long Failures;
        internal long ConsecutiveFailures;
        internal string? LastProblem;
        internal DateTimeOffset? LastEventAt;
        internal TimeSpan CurrentInterval = source.Interval;
    }
}

/// <summary>Events from another layer, counted for <see cref="EntropyCollector.Health"/>.</summary>
public sealed class EntropyEventSink
{
    private readonly Fortuna _fortuna;
    private readonly TimeProvider _time;
    private long _events;
    private long _bytes;
    private long _lastEventTicks;

    internal EntropyEventSink(Fortuna fortuna, string name, byte sourceId, TimeProvider time)
    {
        _fortuna = fortuna;
        Name = name;
        SourceId = sourceId;
        _time = time;
    }

    public string Name { get; }

    public byte SourceId { get; }

    /// <summary>Adds an event; longer data is split into events of at most 32 bytes.</summary>
    public void AddEvent(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, Fortuna.MaxEventBytes);
            _fortuna.AddEvent(SourceId, data[..n]);
            Interlocked.Increment(ref _events);
            Interlocked.Add(ref _bytes, n);
            data = data[n..];
        }
        Interlocked.Exchange(ref _lastEventTicks, _time.GetUtcNow().UtcTicks);
    }

    /// <summary>Adds a timestamp (the low, unpredictable bits are what matter).</summary>
    public void AddTimestamp(long timestamp)
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes, timestamp);
        AddEvent(bytes);
    }

    internal EntropySourceHealth Health()
    {
        long ticks = Interlocked.Read(ref _lastEventTicks);
        return new EntropySourceHealth(Name, SourceId, $"events from {Name}", EntropySourceState.External,
            Interlocked.Read(ref _events), Interlocked.Read(ref _bytes), 0, null,
            ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero));
    }
}
