using System.Diagnostics;

namespace Apps.Stack.Tests.Interop;

/// <summary>Runs a host tool (ip, ping, socat, dnsmasq, tshark) and captures its output.</summary>
internal static class HostCommand
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    public static async Task<Result> RunAsync(string file, string arguments, string? stdin = null, TimeSpan? timeout = null)
    {
        using var process = Start(file, arguments, redirectStdin: stdin is not null);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return new Result(-1, await stdout, await stderr + $"\n(killed after {timeout})");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    public static async Task<string> CheckAsync(string file, string arguments)
    {
        var r = await RunAsync(file, arguments);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"{file} {arguments} failed: {r}");
        return r.Stdout;
    }

    public static Process Start(string file, string arguments, bool redirectStdin = false)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
        };
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
    }
}
