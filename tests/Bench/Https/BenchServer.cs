using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Apps.Bench.Https;

/// <summary>A server under load: our service (host sockets or our stack), the same app on Kestrel's SslStream, or nginx.</summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly Process _process;

    private BenchServer(string name, Process process, string baseUrl, string? netns)
    {
        Name = name;
        _process = process;
        BaseUrl = baseUrl;
        Netns = netns;
    }

    public string Name { get; }

    public string BaseUrl { get; }

    /// <summary>The namespace the load tools must run in, for the service on our stack.</summary>
    public string? Netns { get; set; }

    /// <summary>Our service on our own stack (over TAP), as opposed to host sockets.</summary>
    public bool IsStack { get; set; }

    public static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Starts Apps.Http.Service (built next to this program) and waits for its start-up lines.</summary>
    public static Task<BenchServer> StartServiceAsync(string name, string dataDir, string site, string listen, params string[] extra) =>
        StartBuildAsync(name, AppContext.BaseDirectory, dataDir, site, listen, extra);

    /// <summary>Starts the Apps.Http.Service.dll found in <paramref name="buildDir"/> (an earlier build, for before/after).</summary>
    public static async Task<BenchServer> StartBuildAsync(string name, string buildDir, string dataDir, string site, string listen, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])[Path.Combine(buildDir, "Apps.Http.Service.dll"), "--data-dir", dataDir, "--root", site, "--listen", listen, .. extra])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start)!;
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        string? url = null;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                ready.TrySetException(new InvalidOperationException($"{name} exited during start-up"));
            }
            else if (e.Data.StartsWith("serving ", StringComparison.Ordinal))
            {
                url ??= e.Data["serving ".Length..].TrimEnd('/');
            }
            else if (e.Data.StartsWith("certificate key", StringComparison.Ordinal) && url is not null)
            {
                ready.TrySetResult(url);
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var baseUrl = await ready.Task.WaitAsync(TimeSpan.FromSeconds(120));
            return new BenchServer(name, process, baseUrl, null);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Starts Debian's nginx serving <paramref name="site"/> over HTTPS (HTTP/1.1 and h2) with the same certificate,
    /// <paramref name="workers"/> workers (one per core by default, nginx's <c>auto</c>), the same security headers as our service, so that
    /// responses are the same size, and the same file caching (open_file_cache, revalidated each second); its workers run as root because the temporary site is readable by its owner only.</summary>
    public static async Task<BenchServer> StartNginxAsync(string workDir, string site, string certificate, string key, string contentSecurityPolicy, int workers)
    {
        var port = FreePort();
        Directory.CreateDirectory(Path.Combine(workDir, "tmp"));
        var config = Path.Combine(workDir, "nginx.conf");
        var temp = Path.Combine(workDir, "tmp");
        await File.WriteAllTextAsync(config, $$"""
            daemon off;
            user root;
            worker_processes {{workers}};
            pid {{workDir}}/nginx.pid;
            error_log {{workDir}}/error.log warn;
            events { worker_connections 4096; }
            http {
              include /etc/nginx/mime.types;
              access_log off;
              sendfile on;
              server_tokens off;
              # Our service keeps small files in memory and checks them against the disk once a second; nginx the same way.
              open_file_cache max=1000 inactive=20s;
              open_file_cache_valid 1s;
              # Compressed pages from the .gz made beforehand next to them (its best), else compressed as sent.
              gzip on;
              gzip_static on;
              gzip_types text/css application/javascript image/svg+xml;
              keepalive_requests 1000000;
              client_body_temp_path {{temp}}; proxy_temp_path {{temp}}; fastcgi_temp_path {{temp}}; uwsgi_temp_path {{temp}}; scgi_temp_path {{temp}};
              server {
                listen 127.0.0.1:{{port}} ssl http2;
                ssl_certificate {{certificate}};
                ssl_certificate_key {{key}};
                ssl_protocols TLSv1.2 TLSv1.3;
                add_header Strict-Transport-Security "max-age=31536000" always;
                add_header X-Content-Type-Options nosniff always;
                add_header Content-Security-Policy "{{contentSecurityPolicy}}" always;
                add_header Referrer-Policy no-referrer always;
                add_header X-Frame-Options DENY always;
                root {{site}};
              }
            }
            """);
        var start = new ProcessStartInfo("nginx") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-c", config, "-p", workDir, "-e", Path.Combine(workDir, "error.log") })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var i = 0; ; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                break;
            }
            catch (SocketException) when (i < 200)
            {
                await Task.Delay(50);
            }
        }

        return new BenchServer("nginx", process, $"https://127.0.0.1:{port}", null);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }
}
