namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// The TCP core and wire files stay sans-IO (ARCHITECTURE.md): no sockets, streams, sleeping, clock
/// reads or ambient randomness. Shell code lives in subfolders of Stack/Tcp and is not scanned.
/// </summary>
public class SansIoRulesTests
{
    private static readonly string[] Banned =
    [
        "System.Net.Sockets", "Stream", "Task.Delay", "Thread.Sleep", "DateTime.Now", "DateTime.UtcNow",
        "DateTimeOffset.Now", "DateTimeOffset.UtcNow", "Environment.TickCount", "Stopwatch", "TimeProvider",
        "new Random(", "Random.Shared", "RandomNumberGenerator",
    ];

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Apps.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("Apps.sln not found above the test binaries");
    }

    [Fact]
    public void Tcp_core_and_wire_files_use_no_io_clock_or_ambient_randomness()
    {
        var root = RepositoryRoot();
        var files = Directory.GetFiles(Path.Combine(root, "Stack", "Tcp"), "*.cs", SearchOption.TopDirectoryOnly)
            .Concat(Directory.GetFiles(Path.Combine(root, "Stack", "Wire"), "Tcp*.cs"))
            .ToList();
        Assert.True(files.Count > 10);
        var offences =
            from file in files
            from line in File.ReadLines(file).Select((text, index) => (text, index))
            where !line.text.TrimStart().StartsWith("//", StringComparison.Ordinal)
            from banned in Banned
            where line.text.Contains(banned, StringComparison.Ordinal)
            select $"{Path.GetFileName(file)}:{line.index + 1} uses {banned}";
        Assert.Empty(offences);
    }
}
