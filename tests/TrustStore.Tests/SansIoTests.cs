using System.Text.RegularExpressions;

namespace Apps.TrustStore.Tests;

/// <summary>
/// ARCHITECTURE.md: the TOFU decision is a sans-IO core. TrustStore/Policy, /Certificates and
/// /Exchange must not touch files, sockets, the clock or randomness; only TrustStore/Store (the
/// LiteDB shell) may. This test reads the source and fails on the first offending call.
/// </summary>
public class SansIoTests
{
    private static readonly string[] CoreFolders = ["TrustStore/Policy", "TrustStore/Certificates", "TrustStore/Exchange"];

    private static readonly Regex Forbidden = new(
        @"System\.Net\.Sockets|\bFile\.|\bnew\s+FileStream\b|\bDirectory\.|LiteDB|Thread\.Sleep|Task\.Delay" +
        @"|DateTime(Offset)?\.(Utc)?Now|Environment\.TickCount|Stopwatch|TimeProvider\.System|\bnew\s+Random\b|Random\.Shared",
        RegexOptions.Compiled);

    public static TheoryData<string> CoreFiles()
    {
        var files = new TheoryData<string>();
        string root = RepositoryRoot();
        foreach (string folder in CoreFolders)
            foreach (string file in Directory.GetFiles(Path.Combine(root, folder), "*.cs"))
                files.Add(Path.GetRelativePath(root, file));
        return files;
    }

    [Theory, MemberData(nameof(CoreFiles))]
    public void Core_file_does_no_io_and_reads_no_clock(string file)
    {
        string code = Regex.Replace(File.ReadAllText(Path.Combine(RepositoryRoot(), file)), @"//[^\n]*|/\*.*?\*/", "", RegexOptions.Singleline);
        Match m = Forbidden.Match(code);
        Assert.False(m.Success, $"{file} uses '{m.Value}', which belongs in TrustStore/Store or a tool");
    }

    [Fact]
    public void The_check_covers_the_policy_core()
    {
        Assert.Contains(Path.Combine("TrustStore", "Policy", "TofuPolicy.cs"), CoreFiles().Select((object[] row) => (string)row[0]));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Apps.sln"))) return dir.FullName;
        throw new InvalidOperationException("Apps.sln not found above the test binaries");
    }
}
