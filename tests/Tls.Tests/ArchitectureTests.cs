using System.Text.RegularExpressions;

namespace Apps.Tls.Tests;

/// <summary>
/// Enforces ARCHITECTURE.md's sans-IO rule (STYLE.md A.2): protocol cores do no I/O, never
/// sleep, never read the clock. A core file that uses any of these fails the build's tests.
/// </summary>
public sealed class ArchitectureTests
{
    // Folders holding protocol cores; their I/O shells live in sibling folders (Sources, Storage, Adapters).
    private static readonly string[] CoreFolders =
    [
        "Tls/Entropy",
        "Tls/Entropy/HostProtocol",
        "Tls/Engine",
        "Tls/Platform",
        "Tls/Verification",
    ];

    private static readonly (string Pattern, string Why)[] Banned =
    [
        (@"System\.Net\.Sockets", "sockets belong in an I/O shell"),
        (@"\bnew\s+(File|Network)Stream\b|\bFile\.(Open|Read|Write)", "files and streams belong in an I/O shell"),
        (@"Task\.Delay|Thread\.Sleep", "a core never waits; it returns a deadline"),
        (@"DateTime(Offset)?\.(Utc)?Now|Environment\.TickCount|Stopwatch\.GetTimestamp", "a core takes the time as a parameter or TimeProvider"),
        (@"\bnew\s+Random\b|Random\.Shared", "a core takes randomness injected"),
    ];

    public static TheoryData<string> CoreFiles()
    {
        var data = new TheoryData<string>();
        string root = RepositoryRoot();
        foreach (string folder in CoreFolders)
        {
            string dir = Path.Combine(root, folder);
            if (!Directory.Exists(dir))
            {
                continue;
            }
            foreach (string file in Directory.EnumerateFiles(dir, "*.cs", SearchOption.TopDirectoryOnly))
            {
                data.Add(Path.GetRelativePath(root, file));
            }
        }
        return data;
    }

    [Theory, MemberData(nameof(CoreFiles))]
    public void Protocol_core_file_does_no_io_and_reads_no_clock(string file)
    {
        string code = StripComments(File.ReadAllText(Path.Combine(RepositoryRoot(), file)));
        foreach (var (pattern, why) in Banned)
        {
            Match m = Regex.Match(code, pattern);
            Assert.False(m.Success, $"{file} uses '{m.Value}': {why}");
        }
    }

    [Fact]
    public void Core_folders_exist_and_hold_code()
    {
        // Guards the theory above against silently checking nothing after a move.
        Assert.True(CoreFiles().Count >= 8);
    }

    private static string StripComments(string code) =>
        Regex.Replace(code, @"//[^\n]*|/\*.*?\*/", "", RegexOptions.Singleline);

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Apps.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Apps.sln not found above the test binaries");
    }
}
