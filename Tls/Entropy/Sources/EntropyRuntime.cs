using Apps.Tls.Entropy.Storage;
using Microsoft.Extensions.Logging;
using Org.BouncyCastle.Security;

namespace Apps.Tls.Entropy.Sources;

/// <summary>How an application's entropy is set up.</summary>
public sealed record EntropyRuntimeOptions
{
    /// <summary>The data directory that holds <c>entropy.seed</c>; null for no seed file.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>A host entropy daemon to draw from, when running as a guest.</summary>
    public HostEntropyAddress? HostDaemon { get; init; }

    /// <summary>The sources to poll; null for <see cref="EntropyCollector.DefaultSources"/>.</summary>
    public IReadOnlyList<EntropySource>? Sources { get; init; }

    /// <summary>The procfs/sysfs root for platform detection ("/" normally).</summary>
    public string PlatformRoot { get; init; } = "/";

    /// <summary>How often the seed file is rewritten while running (§9.6.5 suggests every 10 minutes).</summary>
    public TimeSpan SeedRewriteInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long start-up waits for the first reseed before failing.</summary>
    public TimeSpan SeedTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ILoggerFactory? LoggerFactory { get; init; }
}

/// <summary>
/// Fortuna as an application runs it: the seed file restored and replaced, the sources polled,
/// the seed file rewritten periodically and at shutdown. Every app starts one of these and takes
/// its <see cref="SecureRandom"/> from <see cref="CreateSecureRandom"/>.
/// </summary>
public sealed class EntropyRuntime : IAsyncDisposable
{
    /// <summary>The seed file's name inside the data directory.</summary>
    public const string SeedFileName = "entropy.seed";

    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger? _logger;
    private Task _rewriter = Task.CompletedTask;

    private EntropyRuntime(Fortuna fortuna, EntropyCollector collector, HostPlatform platform, SeedFile? seedFile, ILogger? logger)
    {
        Fortuna = fortuna;
        Collector = collector;
        Platform = platform;
        SeedFile = seedFile;
        _logger = logger;
    }

    public Fortuna Fortuna { get; }

    public EntropyCollector Collector { get; }

    public HostPlatform Platform { get; }

    public SeedFile? SeedFile { get; }

    /// <summary>What happened to the seed file at start.</summary>
    public SeedFileLoad? SeedFileLoad { get; private set; }

    /// <summary>Starts everything and waits (at most <see cref="EntropyRuntimeOptions.SeedTimeout"/>) until Fortuna is seeded.</summary>
    /// <exception cref="EntropyNotSeededException">No source delivered enough in time.</exception>
    public static async Task<EntropyRuntime> StartAsync(EntropyRuntimeOptions options, CancellationToken cancellationToken = default)
    {
        ILogger? logger = options.LoggerFactory?.CreateLogger("Apps.Tls.Entropy");
        HostPlatform platform = HostPlatform.Detect(options.PlatformRoot);
        var fortuna = new Fortuna(options.Time);
        IReadOnlyList<EntropySource> sources = options.Sources ?? EntropyCollector.DefaultSources(platform, options.HostDaemon);
        var collector = new EntropyCollector(fortuna, sources, options.Time, logger);
        SeedFile? seedFile = options.DataDirectory is null ? null
            : new SeedFile(Path.Combine(options.DataDirectory, SeedFileName), logger, options.Time);
        var runtime = new EntropyRuntime(fortuna, collector, platform, seedFile, logger);
        try
        {
            if (seedFile is not null)
            {
                runtime.SeedFileLoad = seedFile.Load(fortuna);
            }
            await collector.StartAsync(cancellationToken).ConfigureAwait(false);
            await fortuna.WaitUntilSeededAsync(options.SeedTimeout, cancellationToken).ConfigureAwait(false);
            if (seedFile is not null)
            {
                if (runtime.SeedFileLoad != Storage.SeedFileLoad.Restored)
                {
                    runtime.TryWriteSeedFile();
                }
                runtime._rewriter = runtime.RewritePeriodicallyAsync(options.SeedRewriteInterval, options.Time);
            }
            return runtime;
        }
        catch
        {
            await runtime.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A BouncyCastle <see cref="SecureRandom"/> drawing only from this Fortuna.</summary>
    public SecureRandom CreateSecureRandom() => FortunaRandomGenerator.CreateSecureRandom(Fortuna);

    /// <summary>Stops the sources, writes the seed file one last time and zeroes Fortuna.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _rewriter.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await Collector.DisposeAsync().ConfigureAwait(false);
        if (Fortuna.IsSeeded)
        {
            TryWriteSeedFile();
        }
        Fortuna.Dispose();
        _stop.Dispose();
    }

    private async Task RewritePeriodicallyAsync(TimeSpan interval, TimeProvider time)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
        {
            TryWriteSeedFile();
        }
    }

    private void TryWriteSeedFile()
    {
        if (SeedFile is null)
        {
            return;
        }
        try
        {
            SeedFile.Write(Fortuna);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            EntropyLog.SeedFileWriteFailed(_logger, SeedFile.Path, e.Message);
        }
    }
}
