using System.Text.RegularExpressions;

namespace Apps.Tls.Tests.Engine;

/// <summary>STYLE A.2: the engine core does no I/O, reads no clock and never sleeps; enforced, not hoped for.</summary>
public class SansIoTests
{
    private static readonly string[] Banned =
    [
        "System.Net.Sockets", "Task.Delay", "Thread.Sleep", "DateTime.Now", "DateTime.UtcNow", "DateTimeOffset.Now",
        "DateTimeOffset.UtcNow", "Environment.TickCount", "TimeProvider.System", "new SecureRandom()", "Stopwatch",
        "System.IO.Stream", " File.",
    ];

    [Fact]
    public void Engine_core_uses_no_io_clock_or_ambient_randomness()
    {
        var root = FindRepositoryRoot();
        var offences = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "Tls", "Engine"), "*.cs"))
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                var code = Regex.Replace(lines[i], "//.*$", string.Empty);
                foreach (var banned in Banned)
                {
                    if (code.Contains(banned, StringComparison.Ordinal))
                    {
                        offences.Add($"{Path.GetFileName(file)}:{i + 1}: {banned}");
                    }
                }
            }
        }

        Assert.Empty(offences);
    }

    private static string FindRepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Apps.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Apps.sln not found above the test binaries");
    }
}
