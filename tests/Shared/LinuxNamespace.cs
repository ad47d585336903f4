using System.Diagnostics;

namespace Apps.TestSupport;

/// <summary>
/// A network namespace a test creates, holding the Linux side of a TAP device that our stack (in this or
/// another process) keeps open: the kernel becomes a peer reachable only through that device. Dispose kills
/// the processes started inside and deletes the namespace, whatever happened before.
/// </summary>
internal sealed class LinuxNamespace : IAsyncDisposable
{
    private static int s_counter;
    private readonly List<Process> _processes = [];

    private LinuxNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>A unique suffix for device and namespace names (device names are at most 15 bytes).</summary>
    public static string UniqueSuffix() => $"{Environment.ProcessId % 100000}{Interlocked.Increment(ref s_counter)}";

    /// <summary>Creates the namespace, moves <paramref name="device"/> into it and gives the kernel <paramref name="kernelCidr"/> there.</summary>
    public static async Task<LinuxNamespace> AdoptAsync(string name, string device, string kernelCidr)
    {
        var created = new LinuxNamespace(name);
        try
        {
            await CheckAsync("ip", "netns", "add", name);
            await CheckAsync("ip", "link", "set", device, "netns", name);
            await created.ExecCheckAsync("ip", "link", "set", "lo", "up");
            await created.ExecCheckAsync("ip", "addr", "add", kernelCidr, "dev", device);
            await created.ExecCheckAsync("ip", "link", "set", device, "up");
            return created;
        }
        catch
        {
            await created.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs a command inside the namespace to completion.</summary>
    public Task<(int ExitCode, string Output, string Error)> ExecAsync(params string[] command) =>
        RunAsync("ip", ["netns", "exec", Name, .. command]);

    public async Task ExecCheckAsync(params string[] command)
    {
        var result = await ExecAsync(command);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} in {Name} failed: {result.Error}");
        }
    }

    /// <summary>Starts a long-running process inside the namespace; it is killed on dispose.</summary>
    public Process Start(params string[] command)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in (string[])["netns", "exec", Name, .. command])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (process.ExitCode, await output, await error);
    }

    private static async Task CheckAsync(string file, params string[] arguments)
    {
        var result = await RunAsync(file, arguments);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {result.Error}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }

            process.Dispose();
        }

        await RunAsync("ip", "netns", "del", Name);
    }
}
