using System.Text.RegularExpressions;

namespace Apps.Http.Service.Tests;

/// <summary>Static files over our TLS engine, checked with curl and openssl as the clients.</summary>
public sealed class StaticFileTests(StaticSiteFixture site) : IClassFixture<StaticSiteFixture>
{
    private ServiceProcess Service => site.Service;

    private static string Header(string headers, string name) =>
        Regex.Match(headers, "^" + Regex.Escape(name) + @":\s*(.*?)\r?$", RegexOptions.Multiline | RegexOptions.IgnoreCase) is { Success: true } m
            ? m.Groups[1].Value : "";

    private static int Status(string headers) => int.Parse(Regex.Matches(headers, @"^HTTP/[\d.]+ (\d{3})", RegexOptions.Multiline)[^1].Groups[1].Value);

    [Fact]
    public async Task Curl_over_http11_gets_the_index_with_security_headers()
    {
        var result = await ExternalTool.CurlAsync(Service, "--http1.1", "-D", "-", Service.BaseUrl + "/");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("HTTP/1.1 200", result.Output);
        Assert.Contains("static index", result.Output);
        Assert.Equal("max-age=31536000", Header(result.Output, "strict-transport-security"));
        Assert.Equal("nosniff", Header(result.Output, "x-content-type-options"));
        Assert.Contains("default-src 'self'", Header(result.Output, "content-security-policy"));
    }

    [Fact]
    public async Task Curl_with_http2_negotiates_h2_by_alpn()
    {
        var result = await ExternalTool.CurlAsync(Service, "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", Service.BaseUrl + "/style.css");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("2 200", result.Output);
    }

    [Fact]
    public async Task Openssl_s_client_sees_tls13_and_alpn_h2()
    {
        var result = await ExternalTool.RunAsync("openssl",
            ["s_client", "-connect", $"127.0.0.1:{Service.Port}", "-alpn", "h2,http/1.1", "-servername", "localhost"], input: "");

        Assert.Contains("TLSv1.3", result.Output);
        Assert.Contains("ALPN protocol: h2", result.Output);
    }

    [Fact]
    public async Task Curl_speaking_http10_gets_alpn_http10_and_the_file()
    {
        var result = await ExternalTool.CurlAsync(Service, "--http1.0", "-v", Service.BaseUrl + "/style.css");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("ALPN: server accepted http/1.0", result.Error);
        Assert.Equal(File.ReadAllText(Path.Combine(site.SiteRoot, "style.css")), result.Output);
    }

    [Fact]
    public async Task A_client_offering_only_protocols_we_do_not_serve_gets_no_application_protocol()
    {
        // RFC 7301 §3.2; it also keeps a TLS connection meant for another protocol from reaching HTTP (ALPACA).
        var result = await ExternalTool.RunAsync("openssl",
            ["s_client", "-connect", $"127.0.0.1:{Service.Port}", "-alpn", "smtp,spdy/3", "-servername", "localhost"], input: "");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("alert no application protocol", result.Error);
    }

    [Fact]
    public async Task Openssl_s_client_limited_to_tls12_still_connects_with_an_aead_suite()
    {
        var result = await ExternalTool.RunAsync("openssl",
            ["s_client", "-connect", $"127.0.0.1:{Service.Port}", "-tls1_2", "-alpn", "http/1.1"], input: "");

        Assert.Contains("TLSv1.2", result.Output);
        Assert.Matches("Cipher is ECDHE-ECDSA-(AES\\d+-GCM|CHACHA20-POLY1305)", result.Output);
    }

    // Every record cipher the engine offers, chosen by curl (OpenSSL) as the client: 100 KB of random bytes (seven
    // records, full and short, each past the 4 KiB that libcrypto's short-record path takes) arrive intact, and the
    // small stylesheet too.
    [Theory]
    [InlineData("--tls13-ciphers", "TLS_AES_128_GCM_SHA256", "TLSv1.3")]
    [InlineData("--tls13-ciphers", "TLS_AES_256_GCM_SHA384", "TLSv1.3")]
    [InlineData("--tls13-ciphers", "TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3")]
    [InlineData("--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2")]
    [InlineData("--ciphers", "ECDHE-ECDSA-CHACHA20-POLY1305", "TLSv1.2")]
    public async Task Each_record_cipher_carries_files_intact(string option, string suite, string version)
    {
        var output = Path.Combine(Path.GetTempPath(), $"apps-cipher-{Guid.NewGuid():N}.bin");
        try
        {
            string[] versions = version == "TLSv1.2" ? ["--tlsv1.2", "--tls-max", "1.2"] : ["--tlsv1.3"];
            var large = await ExternalTool.CurlAsync(Service, [.. versions, option, suite, "-v", "-o", output, Service.BaseUrl + "/data.bin"]);
            Assert.Equal(0, large.ExitCode);
            Assert.Contains($"SSL connection using {version} / {suite}", large.Error);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(site.SiteRoot, "data.bin")), await File.ReadAllBytesAsync(output));

            var small = await ExternalTool.CurlAsync(Service, [.. versions, option, suite, Service.BaseUrl + "/style.css"]);
            Assert.Equal(0, small.ExitCode);
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(site.SiteRoot, "style.css")), small.Output);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task Openssl_s_client_resumes_a_tls12_session_from_the_services_ticket()
    {
        var sessionFile = Path.Combine(Path.GetTempPath(), $"apps-session-{Guid.NewGuid():N}.pem");
        try
        {
            var first = await ExternalTool.RunAsync("openssl",
                ["s_client", "-connect", $"127.0.0.1:{Service.Port}", "-tls1_2", "-alpn", "http/1.1", "-sess_out", sessionFile], input: "");
            var second = await ExternalTool.RunAsync("openssl",
                ["s_client", "-connect", $"127.0.0.1:{Service.Port}", "-tls1_2", "-alpn", "http/1.1", "-sess_in", sessionFile], input: "");

            Assert.Contains("New, TLSv1.2", first.Output);
            Assert.Contains("TLS session ticket lifetime hint", first.Output);
            Assert.Contains("Reused, TLSv1.2", second.Output);
        }
        finally
        {
            File.Delete(sessionFile);
        }
    }

    [Fact]
    public async Task Etag_and_if_none_match_give_304()
    {
        var first = await ExternalTool.CurlAsync(Service, "-D", "-", "-o", "/dev/null", Service.BaseUrl + "/logo.svg");
        var etag = Header(first.Output, "etag");
        Assert.NotEqual("", etag);

        var second = await ExternalTool.CurlAsync(Service, "-D", "-", "-o", "/dev/null", "-H", "If-None-Match: " + etag, Service.BaseUrl + "/logo.svg");

        Assert.Equal(304, Status(second.Output));
    }

    [Fact]
    public async Task Last_modified_and_if_modified_since_give_304()
    {
        var first = await ExternalTool.CurlAsync(Service, "-D", "-", "-o", "/dev/null", Service.BaseUrl + "/data.bin");
        var lastModified = Header(first.Output, "last-modified");
        Assert.NotEqual("", lastModified);

        var second = await ExternalTool.CurlAsync(Service, "-D", "-", "-o", "/dev/null", "-H", "If-Modified-Since: " + lastModified, Service.BaseUrl + "/data.bin");

        Assert.Equal(304, Status(second.Output));
    }

    [Fact]
    public async Task Range_request_returns_exactly_the_bytes_asked_for()
    {
        var output = Path.GetTempFileName();
        try
        {
            var result = await ExternalTool.CurlAsync(Service, "-D", "-", "-o", output, "-H", "Range: bytes=1000-1999", "-H", "Accept-Encoding: br, gzip", Service.BaseUrl + "/data.bin");

            Assert.Equal(206, Status(result.Output));
            Assert.Equal("bytes 1000-1999/100000", Header(result.Output, "content-range"));
            Assert.Equal("", Header(result.Output, "content-encoding"));
            Assert.Equal(File.ReadAllBytes(Path.Combine(site.SiteRoot, "data.bin")).AsSpan(1000, 1000).ToArray(), File.ReadAllBytes(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task Compressible_types_are_compressed_and_decompress_to_the_file(string encoding)
    {
        var result = await ExternalTool.CurlAsync(Service, "-D", "/dev/stderr", "--compressed", "-H", "Accept-Encoding: " + encoding, Service.BaseUrl + "/style.css");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(encoding, Header(result.Error, "content-encoding"));
        Assert.StartsWith("text/css", Header(result.Error, "content-type"));
        Assert.Equal(File.ReadAllText(Path.Combine(site.SiteRoot, "style.css")), result.Output);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task A_cached_compressible_file_goes_out_compressed_once_with_its_length_and_a_weak_etag(string coding)
    {
        var body = Path.GetTempFileName();
        try
        {
            // The first request starts the compression in the background; the coded copy shows by its Content-Length.
            var headers = "";
            for (var i = 0; i < 100 && Header(headers, "content-length") == ""; i++)
            {
                headers = (await ExternalTool.CurlAsync(Service, "-D", "-", "-o", body, "-H", "Accept-Encoding: " + coding, Service.BaseUrl + "/style.css")).Output;
                await Task.Delay(i == 0 ? 0 : 100);
            }

            var identity = (await ExternalTool.CurlAsync(Service, "-D", "-", "-o", "/dev/null", Service.BaseUrl + "/style.css")).Output;

            Assert.Equal(coding, Header(headers, "content-encoding"));
            Assert.Equal(new FileInfo(body).Length.ToString(), Header(headers, "content-length"));
            Assert.Equal(File.ReadAllText(Path.Combine(site.SiteRoot, "style.css")), Decode(File.ReadAllBytes(body), coding));
            Assert.Equal("W/" + Header(identity, "etag"), Header(headers, "etag"));
            Assert.Contains("Accept-Encoding", Header(headers, "vary"));
            Assert.Equal("", Header(headers, "accept-ranges"));
            Assert.Equal("bytes", Header(identity, "accept-ranges"));
            Assert.DoesNotContain("W/", Header(identity, "etag"));

            var revalidated = (await ExternalTool.CurlAsync(Service, "-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: " + coding,
                "-H", "If-None-Match: " + Header(headers, "etag"), Service.BaseUrl + "/style.css")).Output;

            Assert.Equal(304, Status(revalidated));
            Assert.Equal(Header(headers, "etag"), Header(revalidated, "etag"));
            Assert.Contains("Accept-Encoding", Header(revalidated, "vary"));
        }
        finally
        {
            File.Delete(body);
        }
    }

    [Fact]
    public async Task A_file_compressed_as_it_is_sent_also_gets_a_weak_etag_and_no_ranges()
    {
        var result = await ExternalTool.CurlAsync(Service, "-D", "/dev/stderr", "--compressed", "-H", "Accept-Encoding: br", Service.BaseUrl + "/big.css");

        Assert.Equal("br", Header(result.Error, "content-encoding"));
        Assert.StartsWith("W/\"", Header(result.Error, "etag"));
        Assert.Equal("", Header(result.Error, "accept-ranges"));
        Assert.Equal(File.ReadAllText(Path.Combine(site.SiteRoot, "big.css")), result.Output);
    }

    private static string Decode(byte[] coded, string coding)
    {
        using var input = new MemoryStream(coded);
        using Stream decoder = coding == "br"
            ? new System.IO.Compression.BrotliStream(input, System.IO.Compression.CompressionMode.Decompress)
            : new System.IO.Compression.GZipStream(input, System.IO.Compression.CompressionMode.Decompress);
        using var text = new StreamReader(decoder);
        return text.ReadToEnd();
    }

    // Requests with no range and no precondition for a cached file are answered by CachedFileFastPath; an
    // If-Modified-Since from 1970 (the file is newer: 200 all the same) sends the same request down the full path.
    [Theory]
    [InlineData("")]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task The_fast_and_the_full_path_answer_a_cached_file_with_the_same_headers_and_bytes(string coding)
    {
        string[] accept = coding == "" ? [] : ["-H", "Accept-Encoding: " + coding];
        var body = Path.GetTempFileName();
        try
        {
            // Until the file is cached, and its coded form made (it shows by its Content-Length).
            var headers = "";
            for (var i = 0; i < 100 && Header(headers, "content-length") == ""; i++)
            {
                headers = (await ExternalTool.CurlAsync(Service, ["-D", "-", "-o", "/dev/null", .. accept, Service.BaseUrl + "/style.css"])).Output;
                await Task.Delay(i == 0 ? 0 : 100);
            }

            // The full path first: its lookup checks the copy against the disk, and the fast path answers for a second.
            var full = (await ExternalTool.CurlAsync(Service, ["-D", "-", "-o", body, .. accept,
                "-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT", Service.BaseUrl + "/style.css"])).Output;
            var fullBytes = File.ReadAllBytes(body);
            var fast = (await ExternalTool.CurlAsync(Service, ["-D", "-", "-o", body, .. accept, Service.BaseUrl + "/style.css"])).Output;

            Assert.Equal(HeaderSet(full), HeaderSet(fast));
            Assert.Equal(fullBytes, File.ReadAllBytes(body));
            Assert.Equal(coding, Header(fast, "content-encoding"));
        }
        finally
        {
            File.Delete(body);
        }
    }

    // HEAD tells the two paths apart: the compression middleware drops Content-Length as it codes, where the fast
    // path knows the coded form's length.
    [Fact]
    public async Task Head_for_a_cached_files_coded_form_gets_its_length_from_the_fast_path()
    {
        var headers = "";
        for (var i = 0; i < 100 && Header(headers, "content-length") == ""; i++)
        {
            headers = (await ExternalTool.CurlAsync(Service, "-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: br", Service.BaseUrl + "/style.css")).Output;
            await Task.Delay(i == 0 ? 0 : 100);
        }

        // The full path's lookup checks the copy against the disk; the fast path answers for a second after that.
        string fast = "", full = "";
        for (var i = 0; i < 10 && Header(fast, "content-length") == ""; i++)
        {
            full = (await ExternalTool.CurlAsync(Service, "-I", "-H", "Accept-Encoding: br", "-H", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT", Service.BaseUrl + "/style.css")).Output;
            fast = (await ExternalTool.CurlAsync(Service, "-I", "-H", "Accept-Encoding: br", Service.BaseUrl + "/style.css")).Output;
        }

        Assert.Equal("br", Header(fast, "content-encoding"));
        Assert.Equal(Header(headers, "content-length"), Header(fast, "content-length"));
        Assert.Equal("br", Header(full, "content-encoding"));
        Assert.Equal("", Header(full, "content-length"));
    }

    /// <summary>The response's header lines but Date, in order of name.</summary>
    private static string[] HeaderSet(string headers) =>
        [.. headers.Split('\n').Select(line => line.TrimEnd('\r')).Where(line => line.Contains(':') && !line.StartsWith("date:", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.OrdinalIgnoreCase)];

    [Theory]
    [InlineData("/status")]
    [InlineData("/healthz")]
    public async Task Pages_made_per_request_go_out_uncompressed_to_a_client_that_accepts_codings(string path)
    {
        var page = await ExternalTool.CurlAsync(Service, "-D", "/dev/stderr", "-H", "Accept-Encoding: br, gzip", Service.BaseUrl + path);
        var file = await ExternalTool.CurlAsync(Service, "-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: br, gzip", Service.BaseUrl + "/style.css");

        Assert.Equal(200, Status(page.Error));
        Assert.Equal("", Header(page.Error, "content-encoding"));
        Assert.DoesNotContain("Accept-Encoding", Header(page.Error, "vary"));
        Assert.Contains(path == "/status" ? "<h1>Apps HTTPS appliance</h1>" : "ok", page.Output);
        Assert.Equal("br", Header(file.Output, "content-encoding"));
    }

    [Fact]
    public async Task Binary_files_are_not_compressed()
    {
        var result = await ExternalTool.CurlAsync(Service, "-D", "-", "-o", "/dev/null", "-H", "Accept-Encoding: br, gzip", Service.BaseUrl + "/data.bin");

        Assert.Equal(200, Status(result.Output));
        Assert.Equal("", Header(result.Output, "content-encoding"));
        Assert.Equal("100000", Header(result.Output, "content-length"));
    }

    [Theory]
    [InlineData("/logo.svg", "image/svg+xml")]
    [InlineData("/style.css", "text/css")]
    [InlineData("/index.html", "text/html")]
    public async Task Content_types_follow_the_extension(string path, string type)
    {
        var result = await ExternalTool.CurlAsync(Service, "-o", "/dev/null", "-w", "%{content_type}", Service.BaseUrl + path);

        Assert.StartsWith(type, result.Output);
    }

    [Fact]
    public async Task Directory_path_serves_its_index()
    {
        var result = await ExternalTool.CurlAsync(Service, Service.BaseUrl + "/docs/");

        Assert.Equal("<p>docs index</p>\n", result.Output);
    }

    [Theory]
    [InlineData("/../{0}")]
    [InlineData("/%2e%2e/{0}")]
    [InlineData("/docs/..%2f..%2f{0}")]
    [InlineData("/docs/%2e%2e/%2e%2e/{0}")]
    public async Task Path_traversal_never_reaches_files_outside_the_root(string pattern)
    {
        var path = string.Format(pattern, Path.GetFileName(site.SecretOutside));

        var result = await ExternalTool.CurlAsync(Service, "--path-as-is", "-w", "\n%{http_code}", Service.BaseUrl + path);

        Assert.DoesNotContain("secret outside the root", result.Output);
        Assert.Matches(@"\n(400|404)$", result.Output);
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        var result = await ExternalTool.CurlAsync(Service, Service.BaseUrl + "/healthz");

        Assert.Equal("ok\n", result.Output);
    }

    [Fact]
    public async Task Status_page_shows_the_fingerprint_and_negotiated_tls()
    {
        await ExternalTool.CurlAsync(Service, "--http2", "-o", "/dev/null", Service.BaseUrl + "/healthz");

        var result = await ExternalTool.CurlAsync(Service, Service.BaseUrl + "/status");

        Assert.Contains(System.Net.WebUtility.HtmlEncode(Service.Fingerprint).Replace("+", "&#x2B;"), result.Output);
        Assert.Matches("<td>TLSv1.3</td><td>TLS_[A-Z0-9_]+</td><td>h2</td>", result.Output);
        var threads = Math.Max(1, Environment.ProcessorCount / 2); // the documented default of --io-threads
        var lane = Math.Max(1, Environment.ProcessorCount - threads); // handshakes get the cores the event threads leave
        Assert.Contains($"<td id=\"transport\">conduit over host sockets, requests run on {threads} socket event thread{(threads == 1 ? "" : "s")}, "
            + $"TLS handshakes on {(lane == 1 ? "1 pool thread" : $"up to {lane} pool threads")}</td>", result.Output);
        Assert.Matches("<tr><td>os</td><td>Active</td>", result.Output);
    }

    /// <summary>Whole responses over keep-alive connections, checked by SHA-256: a cached file (sealed record by
    /// record straight into the socket's buffers), one too large to cache (read from disk), and a small one, each
    /// fetched twice on one connection, over HTTP/1.1 and HTTP/2, with TLS 1.3 and 1.2.</summary>
    [Theory]
    [InlineData("--http1.1", "--tlsv1.3")]
    [InlineData("--http2", "--tlsv1.3")]
    [InlineData("--http1.1", "--tls-max")]
    [InlineData("--http2", "--tls-max")]
    public async Task Large_and_small_responses_arrive_intact_on_one_keep_alive_connection(string http, string tls)
    {
        var large = Path.Combine(site.SiteRoot, $"large-{http.TrimStart('-')}-{tls.TrimStart('-')}.bin");
        var content = new byte[3 * 1024 * 1024 + 5];
        new Random(11).NextBytes(content);
        await File.WriteAllBytesAsync(large, content);
        var outputs = Enumerable.Range(0, 6).Select(_ => Path.GetTempFileName()).ToArray();
        try
        {
            string[] tlsArguments = tls == "--tls-max" ? ["--tlsv1.2", "--tls-max", "1.2"] : ["--tlsv1.3"];
            string[] urls = ["/data.bin", "/" + Path.GetFileName(large), "/index.html"];
            List<string> arguments = [http, .. tlsArguments, "-w", "%{num_connects} %{http_version} %{http_code}\n"];
            for (var i = 0; i < outputs.Length; i++)
            {
                arguments.AddRange(["-o", outputs[i], Service.BaseUrl + urls[i % urls.Length]]);
            }

            var result = await ExternalTool.CurlAsync(Service, [.. arguments]);

            Assert.Equal(0, result.ExitCode);
            var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(6, lines.Length);
            Assert.Equal(1, lines.Count(line => line.StartsWith("1 ", StringComparison.Ordinal))); // one connection for all six
            Assert.All(lines, line => Assert.EndsWith((http == "--http2" ? "2" : "1.1") + " 200", line));
            byte[][] expected = [File.ReadAllBytes(Path.Combine(site.SiteRoot, "data.bin")), content, File.ReadAllBytes(Path.Combine(site.SiteRoot, "index.html"))];
            for (var i = 0; i < outputs.Length; i++)
            {
                Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(expected[i % 3])),
                    Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(outputs[i]))));
            }
        }
        finally
        {
            File.Delete(large);
            foreach (var output in outputs)
            {
                File.Delete(output);
            }
        }
    }

    /// <summary>Many keep-alive connections at once (each served on the thread its socket completes on): every response
    /// is whole and byte-exact.</summary>
    [Fact]
    public async Task Parallel_keep_alive_connections_all_get_byte_exact_responses()
    {
        const int transfers = 24;
        var outputs = Enumerable.Range(0, transfers).Select(_ => Path.GetTempFileName()).ToArray();
        try
        {
            List<string> arguments = ["--parallel", "--parallel-max", "8", "--http1.1"];
            for (var i = 0; i < transfers; i++)
            {
                arguments.AddRange(["-o", outputs[i], Service.BaseUrl + (i % 2 == 0 ? "/data.bin" : "/style.css")]);
            }

            var result = await ExternalTool.CurlAsync(Service, [.. arguments]);

            Assert.Equal(0, result.ExitCode);
            var binary = File.ReadAllBytes(Path.Combine(site.SiteRoot, "data.bin"));
            var css = File.ReadAllBytes(Path.Combine(site.SiteRoot, "style.css"));
            for (var i = 0; i < transfers; i++)
            {
                Assert.Equal(i % 2 == 0 ? binary : css, File.ReadAllBytes(outputs[i]));
            }
        }
        finally
        {
            foreach (var output in outputs)
            {
                File.Delete(output);
            }
        }
    }
}
