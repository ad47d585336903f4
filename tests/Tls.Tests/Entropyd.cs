using System.Diagnostics;

namespace Apps.Tls.Tests;

/// <summary>Starts the real <c>entropyd</c> built beside the tests.</summary>
internal static class Entropyd
{
    internal static string Dll => Path.Combine(AppContext.BaseDirectory, "entropyd.dll");

    internal static Process Start(IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Dll);
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi) ?? throw new InvalidOperationException("could not start entropyd");
    }

    /// <summary>Runs entropyd to completion and returns its exit code and output.</summary>
    internal static ExternalTool.Result Run(params string[] arguments) =>
        ExternalTool.Run("dotnet", [Dll, .. arguments], timeout: TimeSpan.FromMinutes(1));
}
