namespace Apps.Http.Service.Tests;

/// <summary>A real browser: Debian's headless Chromium loads the status page, trusting the service's key by its SPKI pin.</summary>
public sealed class ChromiumTests
{
    private static Task<ToolResult> DumpDomAsync(string url, string profile, string? pin)
    {
        List<string> arguments =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--user-data-dir=" + profile,
        ];
        if (pin is not null)
        {
            arguments.Add("--ignore-certificate-errors-spki-list=" + pin);
        }

        arguments.Add("--dump-dom");
        arguments.Add(url);
        return ExternalTool.RunAsync("chromium", arguments, timeoutSeconds: 120);
    }

    [Fact]
    public async Task Chromium_renders_the_status_page_over_h2_when_trusting_the_key_pin()
    {
        var profile = Directory.CreateTempSubdirectory("chromium-profile-");
        try
        {
            await using var service = await ServiceProcess.StartAsync();

            var result = await DumpDomAsync(service.BaseUrl + "/", profile.FullName, service.PinBase64);

            Assert.Contains("<h1>Apps HTTPS appliance</h1>", result.Output);
            Assert.Matches("<td id=\"transport\">conduit over host sockets, requests run on [0-9]+ socket event threads?, TLS handshakes on (1 pool thread|up to [0-9]+ pool threads)</td>", result.Output);
            Assert.Matches("<td>TLSv1.3</td><td>TLS_[A-Z0-9_]+</td><td>h2</td>", result.Output);
            Assert.Contains("<td id=\"fingerprint\"><code>" + service.Fingerprint + "</code>", result.Output);
            Assert.Matches("<td id=\"memory\">[1-9][0-9]* MB resident, [0-9]+ MB held by the GC</td>", result.Output);
            Assert.DoesNotContain("Content Security Policy", result.Error);
            Assert.Contains("\"GET / HTTP/2\" 200", await service.WaitForLogAsync("\"GET / HTTP/2\" 200"));
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Chromium_refuses_the_self_signed_certificate_without_the_pin()
    {
        var profile = Directory.CreateTempSubdirectory("chromium-profile-");
        try
        {
            await using var service = await ServiceProcess.StartAsync();

            var result = await DumpDomAsync(service.BaseUrl + "/", profile.FullName, pin: null);

            Assert.DoesNotContain("Apps HTTPS appliance", result.Output);
            Assert.DoesNotContain("\"GET / HTTP", service.Log);
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Default_csp_stops_inline_script_in_served_files_while_same_origin_script_runs()
    {
        var profile = Directory.CreateTempSubdirectory("chromium-profile-");
        var site = Directory.CreateTempSubdirectory("https-csp-");
        try
        {
            File.WriteAllText(Path.Combine(site.FullName, "index.html"),
                "<!DOCTYPE html><html><head><title>t</title><script src=\"/ok.js\"></script></head><body>" +
                "<p id=\"inline\">inline did not run</p><script>document.getElementById('inline').textContent='inline ran'</script></body></html>");
            File.WriteAllText(Path.Combine(site.FullName, "ok.js"),
                "document.addEventListener('DOMContentLoaded',()=>{const p=document.createElement('p');p.id='external';p.textContent='same-origin script ran';document.body.appendChild(p);});");
            await using var service = await ServiceProcess.StartAsync(null, "--root", site.FullName);

            var result = await DumpDomAsync(service.BaseUrl + "/", profile.FullName, service.PinBase64);

            Assert.Contains("inline did not run", result.Output);
            Assert.Contains("same-origin script ran", result.Output);
        }
        finally
        {
            profile.Delete(recursive: true);
            site.Delete(recursive: true);
        }
    }
}
