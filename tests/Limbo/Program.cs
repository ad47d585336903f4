// x509-limbo conformance runner: runs every case of a gzipped limbo JSON file through our verifier,
// prints one line per case and totals per namespace, and with --check compares the outcome of every
// case with the recorded results (expected-results.txt) and exits non-zero on any regression.
using System.CommandLine;
using System.IO.Compression;
using System.Text.Json;
using Apps.Limbo;
using static Apps.Limbo.LimboRunner;

var suiteArgument = new Argument<FileInfo>("suite") { Description = "x509-limbo JSON, gzipped (e.g. ../shared/x509-limbo/limbo-regenerated-nobettertls.json.gz)" };
var checkOption = new Option<FileInfo?>("--check") { Description = "recorded results to compare with; exit 1 on any case that passed there and does not now" };
var writeOption = new Option<FileInfo?>("--write") { Description = "record this run's results to this file" };
var quietOption = new Option<bool>("--quiet") { Description = "print only failures, changes and totals" };
var root = new RootCommand("Runs the x509-limbo certificate path validation suite against Apps.Tls verification")
{
    suiteArgument, checkOption, writeOption, quietOption,
};
root.SetAction(parse => Run(parse.GetValue(suiteArgument)!, parse.GetValue(checkOption), parse.GetValue(writeOption), parse.GetValue(quietOption)));
return root.Parse(args).Invoke();

static int Run(FileInfo suite, FileInfo? check, FileInfo? write, bool quiet)
{
    if (!suite.Exists)
    {
        Console.Error.WriteLine($"limbo: {suite.FullName} does not exist; pass the path of an x509-limbo .json.gz file");
        return 2;
    }
    IReadOnlyList<LimboCase> cases;
    using (var stream = new GZipStream(suite.OpenRead(), CompressionMode.Decompress))
    using (var json = JsonDocument.Parse(stream))
        cases = LimboCase.ReadAll(json.RootElement);

    var skipped = ReadSkippedFeatures(Path.Combine(AppContext.BaseDirectory, "skipped-features.txt"));
    var now = TimeProvider.System.GetUtcNow();
    var results = cases.Select(c => LimboRunner.Run(c, skipped, now)).ToList();

    foreach (var r in results)
    {
        if (!quiet || r.Outcome == Outcome.Fail)
            Console.WriteLine($"{Word(r.Outcome),-7} {r.Case.Id}: {r.Detail}");
    }
    Console.WriteLine();
    Console.WriteLine($"{"namespace",-14} {"pass",5} {"fail",5} {"skip",5}");
    foreach (var group in results.GroupBy(r => r.Case.Namespace).OrderBy(g => g.Key, StringComparer.Ordinal))
        Console.WriteLine($"{group.Key,-14} {Count(group, Outcome.Pass),5} {Count(group, Outcome.Fail),5} {Count(group, Outcome.Skip),5}");
    Console.WriteLine($"{"total",-14} {Count(results, Outcome.Pass),5} {Count(results, Outcome.Fail),5} {Count(results, Outcome.Skip),5}");

    // Compare with the recorded results before (possibly) overwriting them.
    var status = check is null ? 0 : Compare(results, check);
    if (write is not null)
    {
        var lines = results.Select(r => $"{r.Case.Id} {Word(r.Outcome)}");
        File.WriteAllLines(write.FullName, ["# x509-limbo results of Apps.Tls verification: case id, then pass/fail/skip.",
            "# Regenerate with --write after an intended change; CI runs --check against this file.", .. lines]);
        Console.WriteLine($"recorded {results.Count} results in {write.FullName}");
    }
    return status;
}

static int Compare(List<Result> results, FileInfo check)
{
    var recorded = File.ReadAllLines(check.FullName)
        .Where(l => l.Length > 0 && !l.StartsWith('#'))
        .Select(l => l.Split(' ', 2))
        .ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.Ordinal);
    var regressions = 0;
    foreach (var r in results)
    {
        var now = Word(r.Outcome);
        if (!recorded.TryGetValue(r.Case.Id, out var before))
        {
            Console.WriteLine($"new case {r.Case.Id}: {now}");
            continue;
        }
        if (before == now)
            continue;
        if (before == "pass")
        {
            regressions++;
            Console.WriteLine($"REGRESSION {r.Case.Id}: recorded pass, now {now}: {r.Detail}");
        }
        else
        {
            Console.WriteLine($"changed {r.Case.Id}: recorded {before}, now {now} (update the recorded results)");
        }
    }
    Console.WriteLine(regressions == 0 ? "limbo: no regressions from the recorded results" : $"limbo: {regressions} regression(s)");
    return regressions == 0 ? 0 : 1;
}

static string Word(Outcome o) => o switch { Outcome.Pass => "pass", Outcome.Fail => "fail", _ => "skip" };

static int Count(IEnumerable<Result> results, Outcome o) => results.Count(r => r.Outcome == o);

static Dictionary<string, string> ReadSkippedFeatures(string path) =>
    File.ReadAllLines(path)
        .Where(l => l.Length > 0 && !l.StartsWith('#'))
        .Select(l => l.Split(':', 2))
        .ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.Ordinal);
