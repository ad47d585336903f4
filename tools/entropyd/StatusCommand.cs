using System.CommandLine;
using System.Text;
using System.Text.Json;
using Apps.Tls.Entropy;
using Apps.Tls.Entropy.Sources;
using Apps.Tls.Entropy.Storage;

namespace Apps.Tools.Entropyd;

/// <summary><c>entropyd status</c>: starts Fortuna as an app would and shows what it sees.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var dataDir = new Option<string?>("--data-dir") { Description = "Data directory holding entropy.seed (default: $APPS_DATA_DIR, $XDG_DATA_HOME/apps, ~/.local/share/apps)." };
        var hostDaemon = new Option<string?>("--host-daemon") { Description = "Also draw from a host entropy daemon: unix:PATH, vsock:CID:PORT or serial:DEVICE." };
        var observe = new Option<double>("--observe") { Description = "Seconds to let the sources run before reporting.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print JSON for scripts." };
        var verbose = Program.VerboseOption();
        var command = new Command("status", "Show this machine's entropy: platform, sources and their health, Fortuna's reseeds, and a sample of output.")
        {
            dataDir, hostDaemon, observe, json, verbose,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            HostEntropyAddress? daemon = null;
            if (result.GetValue(hostDaemon) is { } text)
            {
                try
                {
                    daemon = HostEntropyAddress.Parse(text);
                }
                catch (FormatException e)
                {
                    Console.Error.WriteLine($"entropyd: {e.Message}");
                    return 2;
                }
            }
            using var logs = Program.CreateLoggerFactory(result.GetValue(verbose));
            EntropyRuntime runtime;
            try
            {
                runtime = await EntropyRuntime.StartAsync(new EntropyRuntimeOptions
                {
                    DataDirectory = DataDirectory.Resolve(result.GetValue(dataDir)),
                    HostDaemon = daemon,
                    LoggerFactory = logs,
                }, cancellationToken);
            }
            catch (EntropyNotSeededException e)
            {
                Console.Error.WriteLine($"entropyd: {e.Message}");
                return 1;
            }
            await using (runtime)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, result.GetValue(observe))), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                }
                var sample = new byte[32];
                runtime.Fortuna.Fill(sample);
                Console.Out.Write(result.GetValue(json) ? Json(runtime, sample) : Text(runtime, sample));
            }
            return 0;
        });
        return command;
    }

    private static string Text(EntropyRuntime runtime, byte[] sample)
    {
        HostPlatform p = runtime.Platform;
        FortunaStatus f = runtime.Fortuna.GetStatus();
        var text = new StringBuilder();
        text.AppendLine("Fortuna entropy status");
        text.AppendLine($"  platform   {(p.IsVirtualized ? $"virtualized ({p.Hypervisor ?? "hypervisor unknown"})" : "bare metal (no hypervisor detected)")}");
        text.AppendLine($"  hwrng      {(p.HardwareRng is null ? "none" : $"{p.HardwareRng}{(p.HardwareRngFromHost ? ", fed by the hypervisor host" : "")}")}");
        if (p.Evidence.Count > 0)
        {
            text.AppendLine($"  evidence   {string.Join("; ", p.Evidence)}");
        }
        if (runtime.SeedFile is { } seed)
        {
            string what = runtime.SeedFileLoad switch
            {
                SeedFileLoad.Restored => "restored, then replaced with fresh output",
                SeedFileLoad.Invalid => "had the wrong size; not used, rewritten",
                _ => "none yet; written now",
            };
            text.AppendLine($"  seed file  {seed.Path} ({what})");
        }
        text.AppendLine($"  seeded     {(f.IsSeeded ? "yes" : "NO")}, {f.ReseedCount} reseed(s){(f.LastReseed is { } at ? $", last at {at:yyyy-MM-dd HH:mm:ss.fff}Z" : "")}, pool 0 holds {f.Pool0Bytes} bytes");
        text.AppendLine("  sources");
        foreach (EntropySourceHealth h in runtime.Collector.Health)
        {
            string state = h.State.ToString().ToLowerInvariant();
            string problem = h.LastProblem is null ? "" : $" ({h.LastProblem})";
            text.AppendLine($"    {h.Name,-12} {state,-11} {h.Events,6} events {h.Bytes,8} bytes  {h.Description}{problem}");
        }
        text.AppendLine($"  sample     {Convert.ToHexStringLower(sample)}");
        return text.ToString();
    }

    private static string Json(EntropyRuntime runtime, byte[] sample)
    {
        FortunaStatus f = runtime.Fortuna.GetStatus();
        var document = new
        {
            platform = new
            {
                virtualized = runtime.Platform.IsVirtualized,
                hypervisor = runtime.Platform.Hypervisor,
                hardwareRng = runtime.Platform.HardwareRng,
                hardwareRngFromHost = runtime.Platform.HardwareRngFromHost,
                evidence = runtime.Platform.Evidence,
            },
            seedFile = runtime.SeedFile?.Path,
            seedFileLoad = runtime.SeedFileLoad?.ToString(),
            fortuna = new { seeded = f.IsSeeded, reseeds = f.ReseedCount, lastReseed = f.LastReseed, pool0Bytes = f.Pool0Bytes },
            sources = runtime.Collector.Health.Select(h => new
            {
                name = h.Name,
                id = h.SourceId,
                state = h.State.ToString().ToLowerInvariant(),
                events = h.Events,
                bytes = h.Bytes,
                failures = h.Failures,
                problem = h.LastProblem,
                description = h.Description,
            }),
            sample = Convert.ToHexStringLower(sample),
        };
        return JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine;
    }
}

/// <summary><c>entropyd seed FILE</c>: writes (or refreshes) a Fortuna seed file.</summary>
internal static class SeedCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The seed file to write, e.g. a guest image's entropy.seed." };
        var rewrites = new Option<int>("--rewrites") { Description = "Rewrite it this many times (each write is atomic; for durability tests).", DefaultValueFactory = _ => 1 };
        var command = new Command("seed", "Write a fresh 64-byte Fortuna seed file atomically with mode 0600 (an existing one is restored first, then replaced).")
        {
            file, rewrites,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var fortuna = new Fortuna(TimeProvider.System);
            var seedFile = new SeedFile(result.GetValue(file)!);
            await using (var collector = new EntropyCollector(fortuna, [new OsEntropySource(), new JitterEntropySource()]))
            {
                await collector.StartAsync(cancellationToken);
            }
            try
            {
                seedFile.Load(fortuna);
                int n = Math.Max(1, result.GetValue(rewrites));
                for (int i = 0; i < n && !cancellationToken.IsCancellationRequested; i++)
                {
                    seedFile.Write(fortuna);
                }
                Console.Out.WriteLine($"entropyd: wrote {seedFile.Path}");
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"entropyd: cannot write {seedFile.Path}: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
