using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;

namespace Apps.Tls.Entropy;

/// <summary>
/// The Fortuna random number generator: an accumulator of 32 entropy pools that reseeds a
/// <see cref="FortunaGenerator"/> (Ferguson, Schneier and Kohno, "Cryptography Engineering", ch. 9).
/// Thread-safe; every TLS key and nonce in this toolkit comes from here.
/// </summary>
/// <remarks>
/// Read this first.
/// <list type="bullet">
/// <item>§9.5.6 events: a source id and 1..32 bytes; each source spreads its events round-robin
/// over the 32 pools, each pool a running SHA-256.</item>
/// <item>§9.5.5 reseed: when pool 0 holds at least 64 bytes and at least 100 ms have passed
/// since the last reseed, reseed number r takes the hash of every pool i with 2^i dividing r,
/// and the generator's key becomes SHA-256d(key || those hashes).</item>
/// <item>No output before the first reseed (or a restored seed file): <see cref="EntropyNotSeededException"/>.</item>
/// <item>Concurrency: the pools and the central generator sit behind one lock. So that many
/// threads can draw at once, each thread draws from its own generator, keyed from the central
/// one and re-keyed from it after every reseed. The central generator's output only ever
/// becomes keys, and every per-thread generator re-keys itself after each request.</item>
/// <item>Time comes from the injected <see cref="TimeProvider"/>; tests drive it virtually.</item>
/// </list>
/// </remarks>
public sealed class Fortuna : IDisposable
{
    /// <summary>Number of entropy pools (§9.5.2).</summary>
    public const int PoolCount = 32;

    /// <summary>Pool 0 must hold this many bytes before a reseed (§9.5.5).</summary>
    public const int MinPoolBytes = 64;

    /// <summary>The most data one event may carry (§9.5.6).</summary>
    public const int MaxEventBytes = 32;

    /// <summary>The least time between two reseeds (§9.5.5).</summary>
    public static readonly TimeSpan MinReseedInterval = TimeSpan.FromMilliseconds(100);

    private const int ByteCountFlushThreshold = 1 << 20;

    private static readonly Counter<long> ReseedCounter =
        TlsTelemetry.Meter.CreateCounter<long>("apps.tls.fortuna.reseeds", description: "Fortuna reseeds");

    private static readonly Counter<long> BytesCounter =
        TlsTelemetry.Meter.CreateCounter<long>("apps.tls.fortuna.bytes_generated", unit: "By",
            description: "Bytes drawn from Fortuna (each thread reports in steps of at most 1 MiB)");

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly IncrementalHash[] _pools = new IncrementalHash[PoolCount];
    private readonly byte[] _nextPool = new byte[256];
    private readonly FortunaGenerator _central = new();
    private readonly ThreadLocal<ThreadGenerator> _perThread;
    private readonly TaskCompletionSource _seeded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pool0Bytes;
    private long _reseedCount;
    private long _earliestNextReseed;
    private DateTimeOffset? _lastReseedAt;
    private bool _restoredFromSeed;
    private int _generation;
    private long _bytesGenerated;
    private bool _disposed;

    /// <summary>Creates an unseeded Fortuna whose reseed schedule follows <paramref name="time"/>.</summary>
    public Fortuna(TimeProvider time)
    {
        _time = time ?? throw new ArgumentNullException(nameof(time));
        for (int i = 0; i < PoolCount; i++)
        {
            _pools[i] = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        }
        _perThread = new ThreadLocal<ThreadGenerator>(() => new ThreadGenerator(), trackAllValues: true);
    }

    /// <summary>True once the generator has been seeded by a reseed or a restored seed file.</summary>
    public bool IsSeeded
    {
        get { lock (_gate) { return _central.IsSeeded; } }
    }

    /// <summary>How many times the accumulator has reseeded the generator.</summary>
    public long ReseedCount => Interlocked.Read(ref _reseedCount);

    /// <summary>Bytes handed out so far (each thread reports in steps of at most 1 MiB).</summary>
    public long BytesGenerated => Interlocked.Read(ref _bytesGenerated);

    /// <summary>A snapshot of the accumulator's state for status displays.</summary>
    public FortunaStatus GetStatus()
    {
        lock (_gate)
        {
            return new FortunaStatus(_central.IsSeeded, _reseedCount, _lastReseedAt, _restoredFromSeed,
                _pool0Bytes, BytesGenerated);
        }
    }

    /// <summary>
    /// Adds an entropy event (§9.5.6): 1 to 32 bytes from the source with id <paramref name="source"/>.
    /// Events of one source go round-robin over the pools. Never throws for a seeded or unseeded state;
    /// throws <see cref="ArgumentException"/> for an empty or oversized event (a caller's mistake).
    /// </summary>
    public void AddEvent(byte source, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || data.Length > MaxEventBytes)
        {
            throw new ArgumentException($"an entropy event carries 1 to {MaxEventBytes} bytes, not {data.Length}", nameof(data));
        }
        ReadOnlySpan<byte> header = [source, (byte)data.Length];
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int pool = _nextPool[source];
            _nextPool[source] = (byte)((pool + 1) % PoolCount);
            _pools[pool].AppendData(header);
            _pools[pool].AppendData(data);
            if (pool == 0)
            {
                _pool0Bytes += header.Length + data.Length;
            }
            // Until the first reseed, reseed from here too, so that waiters are released without
            // anyone having to ask for output first. Afterwards reseeds happen on request (§9.5.5).
            if (!_central.IsSeeded)
            {
                TryReseedLocked();
            }
        }
    }

    /// <summary>Fills <paramref name="destination"/> with random bytes.</summary>
    /// <exception cref="EntropyNotSeededException">No reseed has happened yet.</exception>
    public void Fill(Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return;
        }
        if (Volatile.Read(ref _pool0Bytes) >= MinPoolBytes
            && _time.GetTimestamp() >= Volatile.Read(ref _earliestNextReseed))
        {
            TryReseed();
        }
        ThreadGenerator mine = _perThread.Value!;
        if (mine.Generation != Volatile.Read(ref _generation))
        {
            RekeyFromCentral(mine);
        }
        mine.Generator.Generate(destination);
        mine.Unreported += destination.Length;
        if (mine.Unreported >= ByteCountFlushThreshold)
        {
            ReportBytes(mine);
        }
    }

    /// <summary>Completes when Fortuna is seeded; throws <see cref="EntropyNotSeededException"/> after <paramref name="timeout"/>.</summary>
    public async Task WaitUntilSeededAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _seeded.Task.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new EntropyNotSeededException(
                $"the random generator was not seeded within {timeout.TotalSeconds:0.###} s: no entropy source delivered enough; check the sources' health");
        }
    }

    /// <summary>
    /// Seeds the generator from a saved seed (Fortuna's seed file, §9.7): the caller must
    /// overwrite the file with fresh output at once, so that the same seed is never used twice.
    /// </summary>
    public void RestoreSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length < MinPoolBytes)
        {
            throw new ArgumentException($"a seed has at least {MinPoolBytes} bytes, not {seed.Length}", nameof(seed));
        }
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _central.Reseed(seed);
            _restoredFromSeed = true;
            _generation++;
        }
        _seeded.TrySetResult();
    }

    /// <summary>Reseeds now if §9.5.5 allows it; what <see cref="Fill"/> does before drawing.</summary>
    internal void TryReseed()
    {
        lock (_gate)
        {
            TryReseedLocked();
        }
    }

    /// <summary>A copy of the central generator's key, for tests of the reseed schedule.</summary>
    internal byte[] CentralKeySnapshot()
    {
        lock (_gate)
        {
            return _central.Key.ToArray();
        }
    }

    /// <summary>Zeroes all generators and pools.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _central.Dispose();
            foreach (IncrementalHash pool in _pools)
            {
                pool.Dispose();
            }
            foreach (ThreadGenerator t in _perThread.Values)
            {
                t.Generator.Dispose();
            }
        }
        _perThread.Dispose();
    }

    private void RekeyFromCentral(ThreadGenerator mine)
    {
        Span<byte> key = stackalloc byte[AesCtrKeystream.KeySize];
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _central.Generate(key); // throws EntropyNotSeededException while unseeded
            mine.Generation = _generation;
        }
        mine.Generator.Reseed(key);
        CryptographicOperations.ZeroMemory(key);
        if (mine.Unreported > 0)
        {
            ReportBytes(mine);
        }
    }

    private void ReportBytes(ThreadGenerator mine)
    {
        Interlocked.Add(ref _bytesGenerated, mine.Unreported);
        BytesCounter.Add(mine.Unreported);
        mine.Unreported = 0;
    }

    private void TryReseedLocked()
    {
        if (_disposed || _pool0Bytes < MinPoolBytes)
        {
            return;
        }
        long now = _time.GetTimestamp();
        if (_reseedCount > 0 && now < _earliestNextReseed)
        {
            return;
        }
        long r = _reseedCount + 1;
        Span<byte> seed = stackalloc byte[PoolCount * 32];
        int used = 0;
        // Pool i takes part when 2^i divides r; once it does not, no larger i does either.
        while (used < PoolCount && r % (1L << used) == 0)
        {
            _pools[used].GetHashAndReset(seed.Slice(used * 32, 32));
            used++;
        }
        _pool0Bytes = 0;
        _central.Reseed(seed[..(used * 32)]);
        CryptographicOperations.ZeroMemory(seed);
        Interlocked.Exchange(ref _reseedCount, r);
        Volatile.Write(ref _earliestNextReseed, now + (long)(MinReseedInterval.TotalSeconds * _time.TimestampFrequency));
        _lastReseedAt = _time.GetUtcNow();
        _generation++;
        ReseedCounter.Add(1);
        using (Activity? activity = TlsTelemetry.Source.StartActivity("fortuna.reseed"))
        {
            activity?.SetTag("fortuna.reseed", r);
            activity?.SetTag("fortuna.pools", used);
        }
        _seeded.TrySetResult();
    }

    private sealed class ThreadGenerator
    {
        internal readonly FortunaGenerator Generator = new();
        internal int Generation;
        internal long Unreported;
    }
}

/// <summary>A snapshot of Fortuna's accumulator.</summary>
/// <param name="IsSeeded">Whether output can be drawn.</param>
/// <param name="ReseedCount">Reseeds by the accumulator so far.</param>
/// <param name="LastReseed">When the last reseed happened, if any.</param>
/// <param name="RestoredFromSeedFile">Whether a seed file seeded the generator.</param>
/// <param name="Pool0Bytes">Bytes in pool 0 since the last reseed.</param>
/// <param name="BytesGenerated">Bytes handed out (approximate, see <see cref="Fortuna.BytesGenerated"/>).</param>
public sealed record FortunaStatus(
    bool IsSeeded,
    long ReseedCount,
    DateTimeOffset? LastReseed,
    bool RestoredFromSeedFile,
    int Pool0Bytes,
    long BytesGenerated);
