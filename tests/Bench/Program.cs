using BenchmarkDotNet.Running;

namespace Apps.Bench;

/// <summary>
/// Benchmarks, each side by side with its anchor in one run. Examples:
///   dotnet run -c Release --project tests/Bench -- --filter '*Fortuna*'
///   dotnet run -c Release --project tests/Bench -- --list flat
/// Every benchmark class marks its anchor as the baseline, so BenchmarkDotNet's
/// "Ratio" column is ours divided by the anchor's time (below 1.0 is faster).
/// </summary>
public static class Program
{
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
