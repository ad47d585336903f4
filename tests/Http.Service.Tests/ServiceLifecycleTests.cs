using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace Apps.Http.Service.Tests;

/// <summary>Start-up, certificate persistence, redirect, trace file and graceful shutdown of the real process.</summary>
public sealed class ServiceLifecycleTests
{
    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Self_signed_certificate_is_made_once_and_reused_on_restart()
    {
        var data = Directory.CreateTempSubdirectory("https-data-");
        try
        {
            string first;
            await using (var service = await ServiceProcess.StartAsync(data.FullName))
            {
                first = service.Fingerprint;
                Assert.Contains("(new)", service.Log);
            }

            await using (var again = await ServiceProcess.StartAsync(data.FullName))
            {
                Assert.Equal(first, again.Fingerprint);
                Assert.DoesNotContain("(new)", again.Log);
            }
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Curl_verifies_the_self_signed_certificate_as_its_own_ca_for_localhost()
    {
        await using var service = await ServiceProcess.StartAsync();
        var certificate = Path.Combine(service.DataDirectory, "https-certificate.pem");

        var result = await ExternalTool.RunAsync("curl", ["-sS", "--cacert", certificate, $"https://localhost:{service.Port}/healthz"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("ok\n", result.Output);
    }

    [Fact]
    public async Task Wrong_pin_makes_curl_refuse_the_server()
    {
        await using var service = await ServiceProcess.StartAsync();

        var result = await ExternalTool.RunAsync("curl",
            ["-sS", "-k", "--pinnedpubkey", "sha256//" + Convert.ToBase64String(new byte[32]), service.BaseUrl + "/healthz"]);

        Assert.Equal(90, result.ExitCode); // CURLE_SSL_PINNEDPUBKEYNOTMATCH
    }

    [Fact]
    public async Task Given_pem_files_are_served_instead_of_the_self_signed_pair()
    {
        var data = Directory.CreateTempSubdirectory("https-pem-");
        try
        {
            var key = Path.Combine(data.FullName, "key.pem");
            var cert = Path.Combine(data.FullName, "cert.pem");
            var made = await ExternalTool.MakeSelfSignedPairAsync(key, cert, days: 2, "/CN=localhost", "DNS:localhost");
            Assert.Equal(0, made.ExitCode);

            await using var service = await ServiceProcess.StartAsync(null, "--cert", cert, "--key", key);
            var result = await ExternalTool.RunAsync("curl", ["-sS", "--cacert", cert, $"https://localhost:{service.Port}/healthz"]);

            Assert.Equal("ok\n", result.Output);
            Assert.Contains("certificate file " + cert, service.Log);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Encrypted_key_is_read_with_its_password_file_and_refused_without_it()
    {
        var data = Directory.CreateTempSubdirectory("https-enc-");
        try
        {
            string In(string name) => Path.Combine(data.FullName, name);
            File.WriteAllText(In("password"), "correct horse battery staple\n");
            File.WriteAllText(In("wrong"), "incorrect horse\n");
            var key = await ExternalTool.RunAsync("openssl",
                ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass", "file:" + In("password"), "-out", In("key.pem")]);
            Assert.Equal(0, key.ExitCode);
            Assert.Contains("ENCRYPTED PRIVATE KEY", File.ReadAllText(In("key.pem")));
            var cert = await ExternalTool.RunAsync("openssl",
                ["req", "-x509", "-key", In("key.pem"), "-passin", "file:" + In("password"), "-out", In("cert.pem"), "-days", "2",
                 "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]);
            Assert.Equal(0, cert.ExitCode);

            await using (var service = await ServiceProcess.StartAsync(null, "--cert", In("cert.pem"), "--key", In("key.pem"), "--key-password-file", In("password")))
            {
                var result = await ExternalTool.RunAsync("curl", ["-sS", "--cacert", In("cert.pem"), $"https://localhost:{service.Port}/healthz"]);
                Assert.Equal("ok\n", result.Output);
            }

            async Task<ToolResult> Start(params string[] extra) => await ExternalTool.RunAsync("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"), "--data-dir", data.FullName, "--listen", "127.0.0.1:0",
                 "--cert", In("cert.pem"), "--key", In("key.pem"), .. extra]);
            var without = await Start();
            var wrong = await Start("--key-password-file", In("wrong"));
            var missing = await Start("--key-password-file", In("absent"));

            Assert.Equal(1, without.ExitCode);
            Assert.StartsWith("https: the key PEM is encrypted; give its password with --key-password-file", without.Error);
            Assert.Equal(1, wrong.ExitCode);
            Assert.StartsWith("https: the key PEM could not be read", wrong.Error);
            Assert.Contains("check the password", wrong.Error);
            Assert.Equal(1, missing.ExitCode);
            Assert.StartsWith("https: cannot read the key password file " + In("absent"), missing.Error);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Key_password_file_without_a_key_is_refused_with_usage()
    {
        var result = await ExternalTool.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"), "--listen", "127.0.0.1:0", "--key-password-file", "/etc/hostname"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--key-password-file is the password of --key; give it with --cert and --key", result.Error);
    }

    [Fact]
    public async Task Mismatched_key_is_refused_at_start_with_a_one_line_reason()
    {
        var data = Directory.CreateTempSubdirectory("https-bad-");
        try
        {
            var paths = new List<string>();
            foreach (var name in new[] { "a", "b" })
            {
                var made = await ExternalTool.MakeSelfSignedPairAsync(Path.Combine(data.FullName, name + ".key"), Path.Combine(data.FullName, name + ".pem"),
                    days: 2, "/CN=" + name);
                Assert.Equal(0, made.ExitCode);
            }

            var result = await ExternalTool.RunAsync("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"), "--data-dir", data.FullName, "--listen", "127.0.0.1:0",
                 "--cert", Path.Combine(data.FullName, "a.pem"), "--key", Path.Combine(data.FullName, "b.key")]);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("https: the private key does not belong to the certificate", result.Error);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Plain_http_port_redirects_to_https_with_308()
    {
        var httpPort = FreePort();
        await using var service = await ServiceProcess.StartAsync(null, "--http-port", httpPort.ToString());

        var result = await ExternalTool.RunAsync("curl", ["-sS", "-D", "-", "-o", "/dev/null", $"http://127.0.0.1:{httpPort}/a/b?c=d"]);

        Assert.StartsWith("HTTP/1.1 308", result.Output);
        Assert.Contains($"Location: https://127.0.0.1:{service.Port}/a/b?c=d", result.Output);
    }

    [Fact]
    public async Task Plain_redirect_accepts_are_traced_as_conduit_accept_spans()
    {
        var data = Directory.CreateTempSubdirectory("https-trace-plain-");
        try
        {
            var trace = Path.Combine(data.FullName, "trace.json");
            var httpPort = FreePort();
            await using (var service = await ServiceProcess.StartAsync(null, "--http-port", httpPort.ToString(), "--trace", trace))
            {
                var result = await ExternalTool.RunAsync("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", $"http://127.0.0.1:{httpPort}/x"]);
                Assert.Equal("308", result.Output);
                Assert.Equal(0, await service.StopAsync());
            }

            using var json = JsonDocument.Parse(File.ReadAllText(trace));
            var plain = json.RootElement.EnumerateArray()
                .Where(e => e.GetProperty("name").GetString() == "conduit.accept")
                .Select(e => e.GetProperty("args"))
                .Where(a => a.GetProperty("endpoint").GetString() == $"127.0.0.1:{httpPort}")
                .ToList();
            var accept = Assert.Single(plain);
            Assert.Equal("host", accept.GetProperty("transport").GetString());
            Assert.StartsWith("127.0.0.1:", accept.GetProperty("peer").GetString());
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Sigterm_lets_an_in_flight_download_finish_then_exits_cleanly()
    {
        var site = Directory.CreateTempSubdirectory("https-big-");
        var download = Path.GetTempFileName();
        try
        {
            var content = new byte[3_000_000];
            new Random(11).NextBytes(content);
            File.WriteAllBytes(Path.Combine(site.FullName, "big.bin"), content);
            await using var service = await ServiceProcess.StartAsync(null, "--root", site.FullName);

            var curl = ExternalTool.CurlAsync(service, "--limit-rate", "1M", "-o", download, service.BaseUrl + "/big.bin");
            for (var i = 0; i < 600 && new FileInfo(download).Length == 0; i++)
            {
                await Task.Delay(50);
            }

            var exit = await service.StopAsync();
            var result = await curl;

            Assert.Equal(0, result.ExitCode);
            Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(download)));
            Assert.Equal(0, exit);
            Assert.Contains("stopping: finishing requests in flight", service.Log);
        }
        finally
        {
            site.Delete(recursive: true);
            File.Delete(download);
        }
    }

    [Fact]
    public async Task Trace_file_holds_tls_spans_as_chrome_trace_events()
    {
        var data = Directory.CreateTempSubdirectory("https-trace-");
        try
        {
            var trace = Path.Combine(data.FullName, "trace.json");
            await using (var service = await ServiceProcess.StartAsync(null, "--trace", trace))
            {
                await ExternalTool.CurlAsync(service, "--http2", service.BaseUrl + "/healthz");
                Assert.Equal(0, await service.StopAsync());
            }

            using var json = JsonDocument.Parse(File.ReadAllText(trace));
            var accepts = json.RootElement.EnumerateArray()
                .Where(e => e.GetProperty("name").GetString() == "conduit.tls.accept")
                .ToList();
            Assert.NotEmpty(accepts);
            var args = accepts[0].GetProperty("args");
            Assert.Equal("X", accepts[0].GetProperty("ph").GetString());
            Assert.Equal("TLSv1.3", args.GetProperty("tls.version").GetString());
            Assert.Equal("h2", args.GetProperty("tls.alpn").GetString());
            Assert.Contains(json.RootElement.EnumerateArray(), e => e.GetProperty("cat").GetString() == "Apps.Tls");
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Listens_on_ipv4_and_ipv6_loopback_at_once()
    {
        await using var service = await ServiceProcess.StartAsync(null, "--listen", "127.0.0.1:0", "--listen", "[::1]:0");
        var v6 = System.Text.RegularExpressions.Regex.Match(service.Log, @"serving https://\[::1\]:(\d+)/");
        Assert.True(v6.Success, service.Log);

        var overV4 = await ExternalTool.CurlAsync(service, service.BaseUrl + "/healthz");
        var overV6 = await ExternalTool.CurlAsync(service, "-g", $"https://[::1]:{v6.Groups[1].Value}/healthz");

        Assert.Equal("ok\n", overV4.Output);
        Assert.Equal("ok\n", overV6.Output);
    }

    [Theory]
    [InlineData("0", "socket completions handed to the thread pool")]
    [InlineData("3", "requests run on 3 socket event threads, TLS handshakes on {0}")]
    public async Task Io_threads_choose_where_requests_run_and_the_status_page_says_so(string threads, string pattern)
    {
        // Handshakes get the cores the event threads leave, one at least.
        var lane = Math.Max(1, Environment.ProcessorCount - int.Parse(threads, System.Globalization.CultureInfo.InvariantCulture));
        var described = string.Format(System.Globalization.CultureInfo.InvariantCulture, pattern, lane == 1 ? "1 pool thread" : $"up to {lane} pool threads");
        await using var service = await ServiceProcess.StartAsync(null, "--io-threads", threads);

        var health = await ExternalTool.CurlAsync(service, "--http2", service.BaseUrl + "/healthz");
        var status = await ExternalTool.CurlAsync(service, service.BaseUrl + "/");

        Assert.Equal("ok\n", health.Output);
        Assert.Contains($"<td id=\"transport\">conduit over host sockets, {described}</td>", status.Output);
    }

    [Fact]
    public async Task Io_threads_out_of_range_are_refused()
    {
        var result = await ExternalTool.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"), "--io-threads", "-1", "--data-dir", Path.GetTempPath()]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--io-threads -1 is out of range", result.Error);
    }

    [Fact]
    public async Task Malformed_listen_address_is_refused_with_an_example()
    {
        var result = await ExternalTool.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"), "--listen", "::1:8443", "--data-dir", Path.GetTempPath()]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("[::1]:8443", result.Error);
    }

    [Theory]
    [InlineData("0", "--http-port 0 is not a port")]
    [InlineData("70000", "--http-port 70000 is not a port")]
    [InlineData("18443", "--http-port 18443 is also the HTTPS port of --listen 127.0.0.1:18443")]
    public async Task Unusable_http_port_is_refused_in_one_line(string port, string message)
    {
        var result = await ExternalTool.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"), "--listen", "127.0.0.1:18443", "--http-port", port, "--data-dir", Path.GetTempPath()]);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(message, result.Error.Trim().Split('\n')[0].Split(';')[0]);
        Assert.DoesNotContain("\n", result.Error.Trim());
    }

    [Fact]
    public async Task Port_in_use_is_one_line_without_a_stack_trace()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var port = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        var data = Directory.CreateTempSubdirectory("https-in-use-");
        try
        {
            var result = await ExternalTool.RunAsync("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"), "--listen", $"127.0.0.1:{port}", "--data-dir", data.FullName]);

            Assert.Equal(1, result.ExitCode);
            Assert.Equal($"https: cannot listen on 127.0.0.1:{port} (AddressAlreadyInUse); pick another address or port", result.Error.Trim());
            Assert.DoesNotContain("   at ", result.Output + result.Error);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Trace_file_that_cannot_be_written_is_refused_in_one_line()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "trace.json");
        var result = await ExternalTool.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"), "--listen", "127.0.0.1:0", "--trace", missing, "--data-dir", Path.GetTempPath()]);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"https: cannot write the trace to {missing} (", result.Error.Trim());
        Assert.EndsWith("give --trace a file in a writable directory", result.Error.Trim());
        Assert.DoesNotContain("   at ", result.Output + result.Error);
    }

    [Fact]
    public async Task Data_directory_that_cannot_be_made_is_refused_in_one_line()
    {
        // A path under a plain file cannot become a directory, even for root (as CI runs).
        var file = Path.GetTempFileName();
        try
        {
            var dataDir = Path.Combine(file, "data");
            var result = await ExternalTool.RunAsync("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"), "--listen", "127.0.0.1:0", "--data-dir", dataDir]);

            Assert.Equal(1, result.ExitCode);
            var lastLine = result.Error.Trim().Split('\n')[^1];
            Assert.StartsWith($"https: cannot keep the new self-signed certificate in {dataDir} (", lastLine);
            Assert.EndsWith("give --data-dir a directory this user can write", lastLine);
            Assert.DoesNotContain("   at ", result.Output + result.Error);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
