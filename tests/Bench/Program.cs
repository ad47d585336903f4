using BenchmarkDotNet.Running;

namespace Apps.Bench;

/// <summary>
/// Benchmarks, each side by side with its anchor in one run. Examples:
///   dotnet run -c Release --project tests/Bench -- --filter '*Fortuna*'
///   dotnet run -c Release --project tests/Bench -- --list flat
///   dotnet run -c Release --project tests/Bench -- https   (HTTPS service vs Kestrel SslStream and nginx)
///   dotnet run -c Release --project tests/Bench -- tap     (our stack over TAP vs Linux over veth, root)
/// Every benchmark class marks its anchor as the baseline, so BenchmarkDotNet's
/// "Ratio" column is ours divided by the anchor's time (below 1.0 is faster).
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        // HTTPS against Kestrel's own TLS and nginx, driven by wrk and h2load (see Https/HttpsComparison.cs).
        if (args.Length > 0 && args[0] == "https")
        {
            return await Https.HttpsComparison.RunAsync(args[1..]);
        }

        // TCP between our stack and Linux over TAP against Linux to Linux over veth (see Stack/TapComparison.cs).
        if (args.Length > 0 && args[0] == "tap")
        {
            return await Stack.TapComparison.RunAsync(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
