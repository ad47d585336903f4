using System.Diagnostics;

namespace Apps.TrustStore.Tests;

/// <summary>Starts the real built executables (trust, the test writer) with `dotnet NAME.dll`.</summary>
internal static class ChildProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } p ? p : "dotnet";

    public static ProcessStartInfo StartInfo(string assembly, IEnumerable<string> args, string? dataDir = null)
    {
        var psi = new ProcessStartInfo(Dotnet)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly + ".dll"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        // Isolate from the machine's own store: no inherited override, a throwaway HOME.
        psi.Environment.Remove("APPS_DATA_DIR");
        psi.Environment.Remove("XDG_DATA_HOME");
        if (dataDir is not null) psi.Environment["APPS_DATA_DIR"] = dataDir;
        return psi;
    }

    /// <summary>Runs `trust ARGS` against <paramref name="dataDir"/> (through APPS_DATA_DIR) and waits for it.</summary>
    public static Result Trust(string dataDir, string? stdin, params string[] args) => Run(StartInfo("trust", args, dataDir), stdin);

    public static Result Run(ProcessStartInfo psi, string? stdin = null)
    {
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{psi.FileName} {string.Join(' ', psi.ArgumentList)} did not finish in 60 s");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
