using System.Security.Cryptography;
using Apps.TestSupport;

namespace Apps.Http.Service.Tests;

/// <summary>
/// The service on our own TCP/IP stack: it opens a TAP device, the test moves the device into a network
/// namespace it creates, and curl runs there, reaching our stack through the Linux kernel.
/// </summary>
public sealed class StackServiceTests
{
    [Fact]
    public async Task Service_on_our_stack_over_tap_serves_curl_from_a_namespace_over_http2_and_http11()
    {
        var suffix = LinuxNamespace.UniqueSuffix();
        var device = "ahs" + suffix;
        var site = Directory.CreateTempSubdirectory("https-stack-");
        try
        {
            var content = new byte[1_000_000];
            new Random(5).NextBytes(content);
            File.WriteAllBytes(Path.Combine(site.FullName, "blob.bin"), content);
            await using var service = await ServiceProcess.StartAsync(null,
                "--stack", $"tap:{device},ip=10.77.0.2/24", "--listen", "10.77.0.2:8443", "--root", site.FullName);
            await using var ns = await LinuxNamespace.AdoptAsync("apps-https-" + suffix, device, "10.77.0.1/24");
            string[] curl = ["curl", "-sS", "--max-time", "60", "-k", "--pinnedpubkey", "sha256//" + service.PinBase64];

            var h2 = await ns.ExecAsync([.. curl, "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "https://10.77.0.2:8443/status"]);
            var h1 = await ns.ExecAsync([.. curl, "--http1.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "https://10.77.0.2:8443/status"]);
            var status = await ns.ExecAsync([.. curl, "https://10.77.0.2:8443/status"]);
            var blob = Path.Combine(site.FullName, "fetched.bin");
            var download = await ns.ExecAsync([.. curl, "-o", blob, "https://10.77.0.2:8443/blob.bin"]);

            Assert.Equal("2 200", h2.Output);
            Assert.Equal("1.1 200", h1.Output);
            Assert.Contains($"conduit over our TCP/IP stack on tap:{device}", status.Output);
            Assert.Contains("<tr><td>network</td><td>External</td>", status.Output);
            Assert.Matches("<td id=\"stack\">address 10\\.77\\.0\\.2/24; packets in [1-9][0-9]*, out [1-9][0-9]*, dropped [0-9]+</td>", status.Output);
            Assert.Equal(0, download.ExitCode);
            Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(blob)));
            Assert.Contains("10.77.0.1 \"GET /blob.bin HTTP/2\" 200", await service.WaitForLogAsync("10.77.0.1 \"GET /blob.bin HTTP/2\" 200"));
        }
        finally
        {
            site.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Service_with_ip_dhcp_takes_a_lease_from_dnsmasq_and_serves_on_it()
    {
        var suffix = LinuxNamespace.UniqueSuffix();
        var device = "ahd" + suffix;
        await using var service = ServiceProcess.Launch(null, "--stack", $"tap:{device},ip=dhcp", "--listen", "0.0.0.0:8443");
        for (var i = 0; i < 300 && (await LinuxNamespace.RunAsync("ip", "link", "show", device)).ExitCode != 0; i++)
        {
            await Task.Delay(100); // the service creates the device once its entropy is seeded
        }

        await using var ns = await LinuxNamespace.AdoptAsync("apps-dhcp-" + suffix, device, "10.80.0.1/24");
        ns.Start("dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--user=root", "--pid-file=", "--port=0", "--interface=" + device,
            "--bind-interfaces", "--dhcp-range=10.80.0.50,10.80.0.60,255.255.255.0,1h", "--dhcp-leasefile=/dev/null");
        await service.Ready.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.StartsWith("10.80.0.", service.Host);
        var lease = int.Parse(service.Host["10.80.0.".Length..]);
        Assert.InRange(lease, 50, 60);
        var result = await ns.ExecAsync("curl", "-sS", "--max-time", "30", "-k", "--pinnedpubkey", "sha256//" + service.PinBase64, $"https://{service.Host}:8443/healthz");
        Assert.Equal("ok\n", result.Output);
    }

    [Fact]
    public async Task Malformed_stack_option_is_refused_with_usage()
    {
        var result = await ExternalTool.RunAsync("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"), "--stack", "tap:x,ip=10.0.0.300/24", "--data-dir", Path.GetTempPath()]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--stack tap:NAME,ip=ADDR/PREFIX", result.Error);
    }
}
