namespace Apps.Stack.Tests;

/// <summary>
/// STYLE A.2: the protocol cores do no I/O, read no clock and draw no randomness of their own. The
/// core folders are Wire, Arp, Ip and Dhcp; Netif, the loop and the socket API are the shell.
/// </summary>
public class SansIoTests
{
    private static readonly string[] CoreFolders = ["Wire", "Arp", "Ip", "Dhcp"];

    private static readonly string[] BannedInCore =
    [
        "DateTime.Now", "DateTime.UtcNow", "Environment.TickCount", "Thread.Sleep", "Task.Delay", "System.Net.Sockets",
        "Stream", "TimeProvider", "Stopwatch", "GetTimestamp", "new Random", "Random.Shared", "RandomNumberGenerator", "Thread(",
    ];

    // The repository-wide hook's list, for every file of the project.
    private static readonly string[] BannedEverywhere = ["DateTime.Now", "DateTime.UtcNow", "Environment.TickCount", "Thread.Sleep", "Task.Delay"];

    // Code only: comment lines may well mention a stream or the clock.
    private static string Code(string file) => string.Join('\n', File.ReadLines(file).Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));

    private static string StackFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Apps.sln")))
                return Path.Combine(dir.FullName, "Stack");
        throw new InvalidOperationException("Apps.sln not found above the test binaries");
    }

    [Fact]
    public void Core_folders_use_no_clock_io_or_randomness()
    {
        var offences = new List<string>();
        foreach (var folder in CoreFolders)
            foreach (var file in Directory.EnumerateFiles(Path.Combine(StackFolder(), folder), "*.cs", SearchOption.AllDirectories))
                foreach (var banned in BannedInCore)
                    if (Code(file).Contains(banned, StringComparison.Ordinal))
                        offences.Add($"{Path.GetFileName(file)}: {banned}");
        Assert.Empty(offences);
    }

    [Fact]
    public void No_file_in_the_project_reads_the_wall_clock_or_sleeps()
    {
        var offences = new List<string>();
        foreach (var file in Directory.EnumerateFiles(StackFolder(), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
                continue;
            foreach (var banned in BannedEverywhere)
                if (Code(file).Contains(banned, StringComparison.Ordinal))
                    offences.Add($"{Path.GetFileName(file)}: {banned}");
        }
        Assert.Empty(offences);
    }
}
