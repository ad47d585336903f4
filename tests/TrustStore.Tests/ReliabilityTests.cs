using System.Diagnostics;
using System.Globalization;
using System.Text;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;
using Xunit.Abstractions;
using WriterProgram = Apps.TrustStore.Writer.Program;

namespace Apps.TrustStore.Tests;

/// <summary>
/// Several real processes on one database, and SIGKILL at random moments. The writer
/// (tests/TrustStore.Writer) prints "pinned N" only after pin N's transaction has committed.
/// </summary>
public sealed class ReliabilityTests : IDisposable
{
    private readonly TestCertificates.TempDir _dir = new();
    private readonly ITestOutputHelper _output;

    public ReliabilityTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    private ProcessStartInfo Writer(string prefix, long start, long count) =>
        ChildProcess.StartInfo("Apps.TrustStore.Writer",
            [_dir.Db, prefix, start.ToString(CultureInfo.InvariantCulture), count.ToString(CultureInfo.InvariantCulture)]);

    private static void AssertPinned(PinStore store, string prefix, long i)
    {
        IReadOnlyList<Pin> pins = store.PinsFor(HostPort.Create($"{prefix}-{i}.test", 443));
        Assert.True(pins.Count == 1, $"pin {prefix}-{i} was reported written but is missing ({pins.Count} found)");
        Assert.Equal(WriterProgram.FingerprintOf(prefix, i), pins[0].Spki);
    }

    [Fact]
    public async Task Two_writer_processes_the_trust_command_and_this_process_write_at_once_without_loss()
    {
        const int PerWriter = 150, InProcess = 60;
        using (PinStore.Open(_dir.Db)) { }
        using Process a = Process.Start(Writer("a", 0, PerWriter))!;
        using Process b = Process.Start(Writer("b", 0, PerWriter))!;
        Task<string> aOut = a.StandardOutput.ReadToEndAsync(), bOut = b.StandardOutput.ReadToEndAsync();
        Task<ChildProcess.Result> cli = Task.Run(() => ChildProcess.Trust(_dir.Path, null, "pin", "cli.test:443", "-f", "SHA256:" + new string('B', 43)));
        Task<ChildProcess.Result> policy = Task.Run(() => ChildProcess.Trust(_dir.Path, null, "policy", "c-1.test", "pin"));

        using (PinStore store = PinStore.Open(_dir.Db))
        {
            for (int i = 0; i < InProcess; i++)
            {
                using var key = TestCertificates.NewKey();
                var request = new TrustRequest("xmpp-client", HostPort.Create($"c-{i}.test", 5222), [TestCertificates.SelfSigned(key)],
                    CaVerdict.Untrusted("self-signed"), TestCertificates.Now);
                store.Check(request);
            }
        }
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            try
            {
                await a.WaitForExitAsync(timeout.Token);
                await b.WaitForExitAsync(timeout.Token);
            }
            finally
            {
                if (!a.HasExited) a.Kill();
                if (!b.HasExited) b.Kill();
            }
        }
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(0, b.ExitCode);
        Assert.Equal(0, (await cli).ExitCode);
        Assert.Equal(0, (await policy).ExitCode);
        Assert.Equal(PerWriter, (await aOut).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(PerWriter, (await bOut).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        using PinStore check = PinStore.Open(_dir.Db);
        for (int i = 0; i < PerWriter; i++)
        {
            AssertPinned(check, "a", i);
            AssertPinned(check, "b", i);
        }
        Assert.Equal(2 * PerWriter + InProcess + 1, check.AllPins().Count);
        Assert.Equal(TrustPolicy.Pin, check.PolicyFor("xmpp-client", "c-1.test"));
        // Each in-process Check was a first use under tofu, except c-1 once the policy was pin,
        // which is rejected instead: count events rather than assume the interleaving.
        int firstUses = Enumerable.Range(0, InProcess).Count(i => check.PinsFor(HostPort.Create($"c-{i}.test", 5222)).Count == 1);
        Assert.Equal(InProcess, firstUses + (check.PinsFor(HostPort.Create("c-1.test", 5222)).Count == 0 ? 1 : 0));
    }

    [Fact]
    public async Task Every_reported_pin_survives_sigkill_at_random_moments_and_the_database_always_opens()
    {
        const int KillsPerLane = 100;
        int seed = Random.Shared.Next();
        _output.WriteLine($"seed {seed}");
        using (PinStore.Open(_dir.Db)) { }
        // Two lanes kill and restart their own writer on the same file at once, so a kill can
        // also land while the other process holds the lock or is recovering the journal.
        Task<long>[] lanes =
        [
            Task.Run(() => KillLoop("k", seed, KillsPerLane)),
            Task.Run(() => KillLoop("m", seed + 1, KillsPerLane)),
        ];
        long[] reported = await Task.WhenAll(lanes);
        _output.WriteLine($"pins reported before kills: {reported[0]} + {reported[1]}");
        Assert.True(reported[0] > 0 && reported[1] > 0);
    }

    /// <summary>Starts the writer, kills it with SIGKILL at a random moment, checks, repeats. Returns how many pins were reported.</summary>
    private long KillLoop(string prefix, int seed, int kills)
    {
        var random = new Random(seed);
        long next = 0;
        var confirmed = new SortedSet<long>();
        for (int k = 0; k < kills; k++)
        {
            List<long> written = RunAndKill(Writer(prefix, next, 0), random);
            confirmed.UnionWith(written);
            if (written.Count > 0) next = written[^1] + 1;
            using PinStore store = PinStore.Open(_dir.Db);
            foreach (long i in written) AssertPinned(store, prefix, i);
        }
        using PinStore final = PinStore.Open(_dir.Db);
        foreach (long i in confirmed) AssertPinned(final, prefix, i);
        return confirmed.Count;
    }

    /// <summary>
    /// Waits until the writer has reported at least one pin (or, one time in eight, not at all, to
    /// kill it while it opens the file), waits a random 0-40 ms more, then SIGKILLs it. Returns the
    /// ids on complete stdout lines.
    /// </summary>
    private static List<long> RunAndKill(ProcessStartInfo psi, Random random)
    {
        using Process p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var firstLine = new TaskCompletionSource();
        Task reader = Task.Run(() =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = p.StandardOutput.Read(buffer, 0, buffer.Length)) > 0)
            {
                lock (stdout) stdout.Append(buffer, 0, n);
                if (Array.IndexOf(buffer, '\n', 0, n) >= 0) firstLine.TrySetResult();
            }
            firstLine.TrySetResult();
        });
        try
        {
            if (random.Next(8) != 0 && !firstLine.Task.Wait(60_000))
                throw new TimeoutException("the writer reported nothing in 60 s");
            Thread.Sleep(random.Next(0, 41));
            if (p.HasExited) Assert.Fail("the writer exited on its own: " + p.StandardError.ReadToEnd());
        }
        finally
        {
            p.Kill(); // SIGKILL on Linux
            p.WaitForExit();
        }
        reader.Wait();
        string text;
        lock (stdout) text = stdout.ToString();
        var ids = new List<long>();
        // A line cut by the kill has no newline: only complete lines count.
        int end = text.LastIndexOf('\n');
        if (end < 0) return ids;
        foreach (string line in text[..end].Split('\n'))
            ids.Add(long.Parse(line["pinned ".Length..], CultureInfo.InvariantCulture));
        return ids;
    }
}
