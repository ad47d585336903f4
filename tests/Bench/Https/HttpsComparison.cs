using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Apps.Http.Service;
using Apps.TestSupport;

namespace Apps.Bench.Https;

/// <summary>
/// Our HTTPS service against its anchors, in one run on one machine: the same Kestrel app with Kestrel's own
/// sockets and SslStream, and Debian's nginx serving the same files with the same certificate and security headers;
/// then our service on our own TCP/IP stack over TAP (load from a namespace). Measures small responses and 64 KiB
/// responses (wrk, keep-alive), a 40 KiB HTML page to clients that accept gzip (wrk; nginx serves the .gz the run makes
/// beside it, its best, where ours compresses its cached copy once by itself), small responses over HTTP/2 with 100 streams on each of 10 connections (h2load), and new
/// TLS handshakes per second (h2load, one request per connection), and prints
/// ratios. Each measure warms every server up with the same load first (10 s of it, or 20 s of handshake bursts: a .NET
/// server is still compiling its hot paths to their final tier for the first 10 to 15 s under load, at half its later
/// rate in the first 5 s, and the handshake's paths, BouncyCastle's among them, take some 12,000 connections to settle),
/// then runs in interleaved rounds (server A, B, C, D, then D, C, B, A) and keeps each server's best round: other work on
/// a shared machine only ever slows a round down. It also prints the ratios of each server's median round and every round's
/// figure, since a best of few rounds favours whichever server varies most. A handshake round is 4 bursts, their
/// connections over their total time.
/// Run: <c>dotnet run -c Release --project tests/Bench -- https [--seconds N] [--handshakes N] [--rounds N] [--no-stack]
/// [--only small,64k,page,h2,handshakes] [--before DIR] [--nginx-workers N]</c> (root, wrk, h2load, nginx, openssl, curl). <c>--only</c> runs only the
/// measures named; <c>--before DIR</c> also runs the service built from an earlier commit (the folder holding its
/// <c>Apps.Http.Service.dll</c>, e.g. <c>git worktree add /tmp/before COMMIT &amp;&amp; dotnet build -c Release -o /tmp/before/out
/// /tmp/before/Http.Service</c>) in the same interleaved rounds, and prints now/before. <c>--nginx-workers N</c> runs nginx
/// with N workers instead of one per core: on a 2-core machine shared with the load tool, one worker leaves wrk a core of
/// its own, as our one socket event thread does.
/// </summary>
internal static class HttpsComparison
{
    private const int WarmUpSeconds = 10;
    private const int HandshakeWarmUpSeconds = 20;
    private const int BurstsPerRound = 4;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = Option(args, "--seconds", 5);
        var handshakes = Option(args, "--handshakes", 500);
        var nginxWorkers = Math.Max(1, Option(args, "--nginx-workers", Environment.ProcessorCount));
        var rounds = Math.Max(1, Option(args, "--rounds", 2));
        var withStack = !args.Contains("--no-stack");
        var only = Text(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = only?.Except(Measures).ToArray() ?? [];
        if (unknown.Length > 0)
        {
            Console.Error.WriteLine($"https: unknown measure '{unknown[0]}' in --only; use a list of {string.Join(", ", Measures)}");
            return 2;
        }

        bool Runs(string measure) => only is null || only.Contains(measure);
        var before = Text(args, "--before");
        if (before is not null && !File.Exists(Path.Combine(before, "Apps.Http.Service.dll")))
        {
            Console.Error.WriteLine($"https: {before} holds no Apps.Http.Service.dll; build the earlier commit into it (see --before)");
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("https-bench-");
        var servers = new List<BenchServer>();
        LinuxNamespace? ns = null;

        // On Ctrl+C or SIGTERM stop the load tools and measuring, but stay alive to stop the servers and remove the
        // namespace (with the TAP device in it) and the temporary files.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        try
        {
            var site = Directory.CreateDirectory(Path.Combine(work.FullName, "site")).FullName;
            await File.WriteAllTextAsync(Path.Combine(site, "small.txt"), "Hello, World!");
            var large = new byte[64 * 1024];
            new Random(1).NextBytes(large);
            await File.WriteAllBytesAsync(Path.Combine(site, "64k.bin"), large);
            var page = Page();
            await File.WriteAllTextAsync(Path.Combine(site, "page.html"), page);
            await using (var gz = new System.IO.Compression.GZipStream(File.Create(Path.Combine(site, "page.html.gz")), System.IO.Compression.CompressionLevel.SmallestSize))
            {
                await gz.WriteAsync(System.Text.Encoding.UTF8.GetBytes(page));
            }

            File.SetLastWriteTimeUtc(Path.Combine(site, "page.html.gz"), File.GetLastWriteTimeUtc(Path.Combine(site, "page.html")));
            var data = Path.Combine(work.FullName, "data");

            servers.Add(await BenchServer.StartServiceAsync("ours (host sockets)", data, site, $"127.0.0.1:{BenchServer.FreePort()}"));
            servers.Add(await BenchServer.StartServiceAsync("Kestrel SslStream", data, site, $"127.0.0.1:{BenchServer.FreePort()}", "--tls-engine", "sslstream"));
            servers.Add(await BenchServer.StartNginxAsync(Directory.CreateDirectory(Path.Combine(work.FullName, "nginx")).FullName, site,
                Path.Combine(data, "https-certificate.pem"), Path.Combine(data, "https-key.pem"), RequestPipeline.ContentSecurityPolicy, nginxWorkers));
            if (before is not null)
            {
                servers.Add(await BenchServer.StartBuildAsync("ours before", before, data, site, $"127.0.0.1:{BenchServer.FreePort()}"));
            }

            if (withStack)
            {
                var suffix = LinuxNamespace.UniqueSuffix();
                var device = "abn" + suffix;
                var stack = await BenchServer.StartServiceAsync("ours (our stack, TAP)", data, site, "10.79.0.2:8443", "--stack", $"tap:{device},ip=10.79.0.2/24");
                servers.Add(stack);
                ns = await LinuxNamespace.AdoptAsync("apps-bench-" + suffix, device, "10.79.0.1/24");
                stack.Netns = ns.Name;
                stack.IsStack = true;
            }

            // Like with like: print what each server negotiates with an OpenSSL client and how big its response headers are.
            foreach (var server in servers)
            {
                Console.WriteLine($"  {server.Name}: {await LoadTool.DescribeAsync(server.BaseUrl + "/small.txt", server.Netns)}");
            }

            Console.WriteLine($"  {Environment.ProcessorCount} cores; nginx runs {nginxWorkers} worker{(nginxWorkers == 1 ? "" : "s")}; best and median of {rounds} interleaved rounds");
            Console.WriteLine();

            var rows = new List<(string Measure, string Unit, double[][] Rounds)>();
            if (Runs("small"))
            {
                rows.Add(("13 B responses, keep-alive (wrk -c32)", "req/s", await MeasureAsync(servers, rounds,
                    s => LoadTool.WrkAsync(s.BaseUrl + "/small.txt", 32, WarmUpSeconds, s.Netns),
                    s => LoadTool.WrkAsync(s.BaseUrl + "/small.txt", 32, seconds, s.Netns))));
            }

            if (Runs("64k"))
            {
                var per64k = await MeasureAsync(servers, rounds,
                    s => LoadTool.WrkAsync(s.BaseUrl + "/64k.bin", 32, WarmUpSeconds, s.Netns),
                    s => LoadTool.WrkAsync(s.BaseUrl + "/64k.bin", 32, seconds, s.Netns));
                rows.Add(("64 KiB responses, keep-alive (wrk -c32)", "MB/s", per64k.Select(server => server.Select(r => r * 65536 / 1e6).ToArray()).ToArray()));
            }

            if (Runs("page"))
            {
                rows.Add(($"{page.Length / 1024} KiB HTML page accepting gzip (wrk -c32; nginx from a .gz made beforehand)", "req/s", await MeasureAsync(servers, rounds,
                    s => LoadTool.WrkAsync(s.BaseUrl + "/page.html", 32, WarmUpSeconds, s.Netns, PageHeader),
                    s => LoadTool.WrkAsync(s.BaseUrl + "/page.html", 32, seconds, s.Netns, PageHeader))));
                // Like with like, once warm: what each server sends for the page.
                Console.WriteLine($"  page.html is {page.Length:N0} B; accepting gzip, {string.Join("; ", await Task.WhenAll(servers.Select(async s =>
                    $"{s.Name} sends {await LoadTool.CodedSizeAsync(s.BaseUrl + "/page.html", "gzip", s.Netns)}")))}");
                Console.WriteLine();
            }

            if (Runs("h2"))
            {
                rows.Add(("13 B responses, HTTP/2, 100 streams a connection (h2load -c10 -m100)", "req/s", await MeasureAsync(servers, rounds,
                    s => LoadTool.MultiplexedAsync(s.BaseUrl + "/small.txt", 10, 100, 500_000, s.Netns),
                    s => LoadTool.MultiplexedAsync(s.BaseUrl + "/small.txt", 10, 100, 300_000, s.Netns))));
            }

            if (Runs("handshakes"))
            {
                rows.Add(($"new TLS handshakes (h2load -c{handshakes} -n{handshakes}, {BurstsPerRound} bursts a round)", "/s", await MeasureAsync(servers, rounds,
                    async s =>
                    {
                        var warming = Stopwatch.StartNew();
                        while (warming.Elapsed < TimeSpan.FromSeconds(HandshakeWarmUpSeconds))
                        {
                            await LoadTool.HandshakesAsync(s.BaseUrl + "/small.txt", handshakes, s.Netns);
                        }
                    },
                    async s =>
                    {
                        // A 500-connection burst lasts half a second, shorter than this machine's hiccups; a round of
                        // several, taken as connections over their summed time, is steadier.
                        var elapsed = 0.0;
                        for (var burst = 0; burst < BurstsPerRound; burst++)
                        {
                            elapsed += handshakes / await LoadTool.HandshakesAsync(s.BaseUrl + "/small.txt", handshakes, s.Netns);
                        }

                        return BurstsPerRound * handshakes / elapsed;
                    })));
            }

            Print(servers, rows);
            return 0;
        }
        catch (OperationCanceledException) when (Interrupted.IsCancellationRequested)
        {
            Console.Error.WriteLine("https: interrupted; stopping the servers and removing the namespace and temporary files");
            return 130;
        }
        finally
        {
            if (ns is not null)
            {
                await ns.DisposeAsync();
            }

            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }

            work.Delete(recursive: true);
        }
    }

    /// <summary>Cancelled by Ctrl+C or SIGTERM: the load tool running is killed and no further measurement starts.</summary>
    internal static CancellationToken Interrupted => Interruption.Token;

    private static readonly CancellationTokenSource Interruption = new();

    private static void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        Interruption.Cancel();
    }

    /// <summary>Warms every server up with the measured kind of load (so that JIT tiering and pools settle), then measures
    /// the servers one after another, <paramref name="rounds"/> times over in alternating order; returns each server's
    /// figure in every round.</summary>
    private static async Task<double[][]> MeasureAsync(List<BenchServer> servers, int rounds, Func<BenchServer, Task> warmUp, Func<BenchServer, Task<double>> measure)
    {
        foreach (var server in servers)
        {
            Interrupted.ThrowIfCancellationRequested();
            await warmUp(server);
        }

        // Odd rounds go through the servers in reverse: in one A/B on this machine, swapping the order alone moved the
        // ratio by 4%; alternating spreads whatever the position is worth over all of them.
        var values = servers.Select(_ => new double[rounds]).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var step = 0; step < servers.Count; step++)
            {
                Interrupted.ThrowIfCancellationRequested();
                var i = round % 2 == 0 ? step : servers.Count - 1 - step;
                values[i][round] = await measure(servers[i]);
            }
        }

        return values;
    }

    /// <summary>The table of each server's best round, with ratios; then the same ratios from each server's median round,
    /// and every round's figures, so that a reader sees how far a run's rounds spread.</summary>
    private static void Print(List<BenchServer> servers, List<(string Measure, string Unit, double[][] Rounds)> rows)
    {
        // Servers 0, 1 and 2 are ours, Kestrel's and nginx; "ours before" and the stack follow when asked for.
        var before = servers.FindIndex(s => s.Name == "ours before");
        var stack = servers.FindIndex(s => s.IsStack);
        var header = "| measure | " + string.Join(" | ", servers.Select(s => s.Name)) + " | ours/Kestrel | ours/nginx |"
            + (before >= 0 ? " now/before |" : "") + (stack >= 0 ? " TAP/host |" : "");
        var ratioColumns = 2 + (before >= 0 ? 1 : 0) + (stack >= 0 ? 1 : 0);
        Console.WriteLine(header);
        Console.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", servers.Count + 1 + ratioColumns)));
        foreach (var (measure, unit, rounds) in rows)
        {
            var best = rounds.Select(r => r.Max()).ToArray();
            var cells = best.Select(v => v.ToString("N0", CultureInfo.InvariantCulture) + " " + unit);
            Console.WriteLine($"| {measure} | {string.Join(" | ", cells)} | {Ratios(best, before, stack)}");
        }

        Console.WriteLine();
        Console.WriteLine("Ratios of the median rounds, and every round (round 1 first):");
        Console.WriteLine();
        Console.WriteLine("| measure | ours/Kestrel | ours/nginx |" + (before >= 0 ? " now/before |" : "") + (stack >= 0 ? " TAP/host |" : "") + " rounds |");
        Console.WriteLine("|" + string.Concat(Enumerable.Repeat("---|", 2 + ratioColumns)));
        foreach (var (measure, unit, rounds) in rows)
        {
            var median = rounds.Select(Median).ToArray();
            var each = string.Join("; ", servers.Select((s, i) => s.Name + " " + string.Join(" ", rounds[i].Select(v => v.ToString("N0", CultureInfo.InvariantCulture)))));
            Console.WriteLine($"| {measure} | {Ratios(median, before, stack)} {each} ({unit}) |");
        }
    }

    private static string Ratios(double[] values, int before, int stack) =>
        $"{Ratio(values[0], values[1])} | {Ratio(values[0], values[2])} |"
        + (before >= 0 ? $" {Ratio(values[0], values[before])} |" : "")
        + (stack >= 0 ? $" {Ratio(values[stack], values[0])} |" : "");

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Ratio(double ours, double anchor) => anchor <= 0 ? "-" : (ours / anchor).ToString("0.00x", CultureInfo.InvariantCulture);

    private static readonly string[] Measures = ["small", "64k", "page", "h2", "handshakes"];

    private const string PageHeader = "Accept-Encoding: gzip";

    /// <summary>A page of a site's usual kind: a head with links, then sections of text in a table, about 40 KiB, the same
    /// every run.</summary>
    private static string Page()
    {
        var random = new Random(3);
        string[] words = ["packet", "stack", "window", "segment", "certificate", "handshake", "record", "cipher", "entropy", "pool",
            "listener", "endpoint", "stream", "frame", "header", "route", "address", "lease", "resolver", "timer", "buffer", "queue"];
        var page = new System.Text.StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Appliance notes</title>"
            + "<link rel=\"stylesheet\" href=\"/style.css\"><script src=\"/app.js\" defer></script></head><body><main>\n");
        for (var section = 0; page.Length < 40_000; section++)
        {
            page.Append("<section id=\"s").Append(section).Append("\"><h2>Section ").Append(section).Append("</h2><table class=\"notes\">\n");
            for (var row = 0; row < 8; row++)
            {
                page.Append("<tr><td class=\"name\">").Append(words[random.Next(words.Length)]).Append("</td><td>");
                for (var w = 0; w < 14; w++)
                {
                    page.Append(words[random.Next(words.Length)]).Append(w == 13 ? "." : " ");
                }

                page.Append("</td><td class=\"n\">").Append(random.Next(100_000)).Append("</td></tr>\n");
            }

            page.Append("</table></section>\n");
        }

        return page.Append("</main></body></html>\n").ToString();
    }

    private static string? Text(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], out var value) ? value : fallback;
    }
}
