using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Apps.Bench.Https;

/// <summary>Runs wrk and h2load (Debian packages) and reads their figures.</summary>
internal static partial class LoadTool
{
    /// <summary>wrk with keep-alive: requests per second over <paramref name="seconds"/>; <paramref name="header"/> is
    /// sent with every request.</summary>
    public static async Task<double> WrkAsync(string url, int connections, int seconds, string? netns, string? header = null)
    {
        var output = header is null
            ? await RunAsync(netns, "wrk", "-t1", $"-c{connections}", $"-d{seconds}s", url)
            : await RunAsync(netns, "wrk", "-t1", $"-c{connections}", $"-d{seconds}s", "-H", header, url);
        var match = WrkRate().Match(output);
        if (!match.Success)
        {
            throw new InvalidOperationException("wrk printed no rate:\n" + output);
        }

        if (WrkErrors().Match(output) is { Success: true } errors)
        {
            Console.Error.WriteLine($"  wrk reported errors against {url}: {errors.Value}");
        }

        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>h2load with one request per client: every request is a new TLS handshake; returns handshakes per second.</summary>
    public static Task<double> HandshakesAsync(string url, int clients, string? netns) => H2loadAsync(url, clients, 1, clients, netns);

    /// <summary>h2load over HTTP/2 with <paramref name="streams"/> concurrent streams on each of <paramref name="clients"/>
    /// connections (as a browser loading a page's assets does); returns requests per second.</summary>
    public static Task<double> MultiplexedAsync(string url, int clients, int streams, int requests, string? netns) =>
        H2loadAsync(url, clients, streams, requests, netns);

    private static async Task<double> H2loadAsync(string url, int clients, int streams, int requests, string? netns)
    {
        var output = await RunAsync(netns, "h2load", "-c", clients.ToString(CultureInfo.InvariantCulture), "-m", streams.ToString(CultureInfo.InvariantCulture),
            "-n", requests.ToString(CultureInfo.InvariantCulture), url);
        var rate = H2loadRate().Match(output);
        var done = H2loadSucceeded().Match(output);
        if (!rate.Success || !done.Success)
        {
            throw new InvalidOperationException("h2load printed no rate:\n" + output);
        }

        var succeeded = int.Parse(done.Groups[1].Value, CultureInfo.InvariantCulture);
        if (succeeded != requests)
        {
            Console.Error.WriteLine($"  h2load: only {succeeded} of {requests} requests succeeded against {url}");
        }

        return double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture) * succeeded / requests;
    }

    /// <summary>What an OpenSSL client negotiates with the server (version, suite, key exchange) and the size of the HTTP/1.1
    /// response headers curl receives, on one line.</summary>
    public static async Task<string> DescribeAsync(string url, string? netns)
    {
        var authority = new Uri(url);
        var tls = await RunAsync(netns, "openssl", "s_client", "-brief", "-connect", $"{authority.Host}:{authority.Port}");
        var version = TlsLine().Match(tls) is { Success: true } v ? v.Groups[1].Value : "?";
        var suite = SuiteLine().Match(tls) is { Success: true } c ? c.Groups[1].Value : "?";
        var group = GroupLine().Match(tls) is { Success: true } g ? g.Groups[1].Value : "?";
        var headers = await RunAsync(netns, "curl", "-sk", "--http1.1", "-o", "/dev/null", "-w", "%{size_header}", url);
        return $"{version} {suite} {group}; HTTP/1.1 response headers {headers.Trim()} bytes";
    }

    /// <summary>The Content-Encoding and body size of one response to a request that accepts <paramref name="coding"/>.</summary>
    public static async Task<string> CodedSizeAsync(string url, string coding, string? netns)
    {
        var written = await RunAsync(netns, "curl", "-sk", "-o", "/dev/null", "-H", "Accept-Encoding: " + coding,
            "-w", "%{content_type} %header{content-encoding} %{size_download}", url);
        var parts = written.Trim().Split(' ');
        return parts.Length == 3 ? $"{parts[1]}, {parts[2]} B" : $"not coded ({written.Trim()})";
    }

    private static async Task<string> RunAsync(string? netns, string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(netns is null ? tool : "ip") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        if (netns is not null)
        {
            foreach (var part in new[] { "netns", "exec", netns, tool })
            {
                start.ArgumentList.Add(part);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync(HttpsComparison.Interrupted).WaitAsync(TimeSpan.FromMinutes(5));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return await output + await error;
    }

    [GeneratedRegex(@"Protocol version: (\S+)")]
    private static partial Regex TlsLine();

    [GeneratedRegex(@"Ciphersuite: (\S+)")]
    private static partial Regex SuiteLine();

    [GeneratedRegex(@"(?:Server|Peer) Temp Key: ([^,\r\n]+)")]
    private static partial Regex GroupLine();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex WrkRate();

    [GeneratedRegex(@"Non-2xx or 3xx responses: \d+|Socket errors: .*")]
    private static partial Regex WrkErrors();

    [GeneratedRegex(@"finished in [\d.]+m?s, ([\d.]+) req/s")]
    private static partial Regex H2loadRate();

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded")]
    private static partial Regex H2loadSucceeded();
}
