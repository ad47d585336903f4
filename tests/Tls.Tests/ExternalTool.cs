using System.Diagnostics;

namespace Apps.Tls.Tests;

/// <summary>Runs a real program (openssl, rngtest, ...) as a test peer and returns what it printed.</summary>
internal static class ExternalTool
{
    internal sealed record Result(int ExitCode, byte[] Stdout, string Stderr)
    {
        public string StdoutText => System.Text.Encoding.UTF8.GetString(Stdout);
    }

    internal static Result Run(string program, IEnumerable<string> arguments, byte[]? stdin = null, TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        Task<string> err = p.StandardError.ReadToEndAsync();
        var stdout = new MemoryStream();
        Task output = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        if (stdin is not null)
        {
            p.StandardInput.BaseStream.Write(stdin);
        }
        p.StandardInput.Close();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} did not finish in time");
        }
        output.Wait();
        return new Result(p.ExitCode, stdout.ToArray(), err.Result);
    }
}
