using System.Diagnostics;
using Apps.Tls.Entropy;
using Apps.Tls.Entropy.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Tls.Tests.Entropy;

public sealed class SeedFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("apps-seed-").FullName;
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Missing_file_is_reported_and_leaves_fortuna_unseeded()
    {
        using var f = new Fortuna(_time);
        var seed = new SeedFile(Path.Combine(_dir, "entropy.seed"));
        Assert.Equal(SeedFileLoad.Missing, seed.Load(f));
        Assert.False(f.IsSeeded);
    }

    [Fact]
    public void Restores_then_immediately_overwrites_with_fresh_output()
    {
        string path = Path.Combine(_dir, "entropy.seed");
        byte[] original = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64);
        File.WriteAllBytes(path, original);

        using var f = new Fortuna(_time);
        Assert.Equal(SeedFileLoad.Restored, new SeedFile(path).Load(f));
        Assert.True(f.IsSeeded);
        byte[] after = File.ReadAllBytes(path);
        Assert.Equal(64, after.Length);
        Assert.NotEqual(original, after);
    }

    [Fact]
    public void Written_file_is_64_bytes_with_mode_0600()
    {
        string path = Path.Combine(_dir, "sub", "entropy.seed");
        using var f = new Fortuna(_time);
        f.RestoreSeed(new byte[64]);
        new SeedFile(path).Write(f);
        Assert.Equal(64, new FileInfo(path).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp-*"));
    }

    [Fact]
    public void Wrong_sized_file_is_not_used()
    {
        string path = Path.Combine(_dir, "entropy.seed");
        File.WriteAllBytes(path, new byte[10]);
        using var f = new Fortuna(_time);
        Assert.Equal(SeedFileLoad.Invalid, new SeedFile(path).Load(f));
        Assert.False(f.IsSeeded);
    }

    [Fact]
    public void Two_processes_restoring_one_seed_file_do_not_start_alike()
    {
        string a = Path.Combine(_dir, "a.seed"), b = Path.Combine(_dir, "b.seed");
        byte[] shared = System.Security.Cryptography.RandomNumberGenerator.GetBytes(64);
        File.WriteAllBytes(a, shared);
        File.WriteAllBytes(b, shared);
        using var fa = new Fortuna(_time);
        using var fb = new Fortuna(_time);
        new SeedFile(a).Load(fa);
        new SeedFile(b).Load(fb);
        byte[] x = new byte[32], y = new byte[32];
        fa.Fill(x);
        fb.Fill(y);
        Assert.NotEqual(x, y);
    }

    [Fact]
    public void Stale_temporaries_of_a_crashed_writer_are_removed_young_ones_kept()
    {
        string path = Path.Combine(_dir, "entropy.seed");
        string stale = path + ".tmp-1-old", young = path + ".tmp-2-new";
        File.WriteAllBytes(stale, new byte[3]);
        File.WriteAllBytes(young, new byte[3]);
        File.SetLastWriteTimeUtc(stale, DateTime.UnixEpoch);
        _time.SetUtcNow(new DateTimeOffset(File.GetLastWriteTimeUtc(young)));
        new SeedFile(path, time: _time).Load(new Fortuna(_time));
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(young));
    }

    [Fact]
    public void Kill_during_rewrites_never_leaves_a_short_file()
    {
        string path = Path.Combine(_dir, "entropy.seed");
        var random = new Random(2026);
        int killedWhileRunning = 0;
        for (int round = 0; round < 12; round++)
        {
            using Process p = Entropyd.Start(["seed", path, "--rewrites", "100000000"]);
            // Let it get into its rewrite loop (the file exists), then kill it at a random moment.
            var started = Stopwatch.StartNew();
            while (!File.Exists(path) && started.Elapsed < TimeSpan.FromSeconds(20) && !p.HasExited)
            {
                Thread.Sleep(5);
            }
            Thread.Sleep(random.Next(1, 60));
            if (!p.HasExited)
            {
                p.Kill();
                killedWhileRunning++;
            }
            p.WaitForExit();
            Assert.Equal(64, new FileInfo(path).Length);
        }
        Assert.True(killedWhileRunning >= 10, $"only {killedWhileRunning} kills landed mid-run");
        using var f = new Fortuna(_time);
        Assert.Equal(SeedFileLoad.Restored, new SeedFile(path).Load(f));
    }
}
