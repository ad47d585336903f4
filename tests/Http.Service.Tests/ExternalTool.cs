using System.Diagnostics;

namespace Apps.Http.Service.Tests;

/// <summary>The outcome of running a real peer (curl, openssl, chromium) to completion.</summary>
internal sealed record ToolResult(int ExitCode, string Output, string Error);

/// <summary>Runs command-line peers with a deadline; a peer still running at the deadline is killed.</summary>
internal static class ExternalTool
{
    public static async Task<ToolResult> RunAsync(string file, IEnumerable<string> arguments, string? input = null, int timeoutSeconds = 60)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeoutSeconds}s");
        }

        return new ToolResult(process.ExitCode, await output, await error);
    }

    /// <summary>openssl makes a new ECDSA P-256 key and a self-signed certificate for it (PEM, key unencrypted).</summary>
    public static Task<ToolResult> MakeSelfSignedPairAsync(string key, string certificate, int days, string subject, string? subjectAltName = null) =>
        RunAsync("openssl",
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", certificate,
             "-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture), "-subj", subject,
             .. subjectAltName is null ? Array.Empty<string>() : ["-addext", "subjectAltName=" + subjectAltName]]);

    /// <summary>curl with the service's key pinned (and no CA check, the certificate being self-signed).</summary>
    public static Task<ToolResult> CurlAsync(ServiceProcess service, params string[] arguments) =>
        RunAsync("curl", ["-sS", "--max-time", "30", "-k", "--pinnedpubkey", "sha256//" + service.PinBase64, .. arguments]);
}
