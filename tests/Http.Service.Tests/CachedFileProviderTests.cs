using System.IO.Compression;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Http.Service.Tests;

/// <summary>The in-memory copy of small static files: same metadata as the disk, stale for at most one period, bounded.</summary>
public sealed class CachedFileProviderTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("cached-files-");
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => _root.Delete(recursive: true);

    private string Write(string name, string text, DateTime modified)
    {
        var path = Path.Combine(_root.FullName, name);
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, modified);
        return path;
    }

    private static string Read(IFileInfo file)
    {
        using var reader = new StreamReader(file.CreateReadStream());
        return reader.ReadToEnd();
    }

    // Compression jobs the provider started, run when a test says so.
    private readonly List<Action> _jobs = [];

    private CachedFileProvider Provider(int maxFileBytes = CachedFileProvider.DefaultMaxFileBytes, long maxTotalBytes = CachedFileProvider.DefaultMaxTotalBytes) =>
        new(new PhysicalFileProvider(_root.FullName), _time, TimeSpan.FromSeconds(1), maxFileBytes, maxTotalBytes, _jobs.Add);

    private void RunJobs()
    {
        var jobs = _jobs.ToArray();
        _jobs.Clear();
        foreach (var job in jobs)
        {
            job();
        }
    }

    private static byte[] Decode(ReadOnlyMemory<byte> coded, string coding)
    {
        using var input = new MemoryStream(coded.ToArray());
        using Stream decoder = coding == "br" ? new BrotliStream(input, CompressionMode.Decompress) : new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        return output.ToArray();
    }

    private static string Css(int rules) =>
        string.Concat(Enumerable.Range(0, rules).Select(i => $".c{i} {{ color: #{i * 7919 % 0xFFFFFF:x6}; margin: {i % 13}px auto; }}\n"));

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public void A_coded_form_is_made_once_in_the_background_and_decodes_to_the_file(string coding)
    {
        var css = Css(400);
        Write("style.css", css, DateTime.UtcNow);
        using var provider = Provider();
        var path = provider.GetFileInfo("/style.css").PhysicalPath!;

        Assert.False(provider.TryGetEncodedCopy(path, coding, out _));
        Assert.False(provider.TryGetEncodedCopy(path, coding, out _));
        Assert.Single(_jobs);
        RunJobs();
        Assert.True(provider.TryGetEncodedCopy(path, coding, out var coded));
        Assert.True(provider.TryGetEncodedCopy(path, coding, out var again));

        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(css), Decode(coded, coding));
        Assert.True(coded.Span == again.Span, "the second request gets the same bytes, not a new compression");
        Assert.True(coded.Length < css.Length / 3, $"{coded.Length} of {css.Length} bytes");
        Assert.Equal(css.Length + coded.Length, provider.TotalBytes);
        Assert.Empty(_jobs);
    }

    [Fact]
    public void A_coded_form_goes_with_its_copy_when_the_file_is_edited_or_deleted()
    {
        var file = Write("page.html", Css(100), new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        using var provider = Provider();
        var first = provider.GetFileInfo("/page.html").PhysicalPath!;
        provider.TryGetEncodedCopy(first, "br", out _);
        RunJobs();
        Assert.True(provider.TryGetEncodedCopy(first, "br", out var firstCoded));

        Write("page.html", Css(120), new DateTime(2026, 1, 1, 0, 0, 1, DateTimeKind.Utc));
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = provider.GetFileInfo("/page.html");

        // A response that began with the first copy still gets its coded form; the budget counts only the new copy.
        Assert.True(provider.TryGetEncodedCopy(first, "br", out var stillFirst));
        Assert.True(firstCoded.Span == stillFirst.Span);
        Assert.Equal(second.Length, provider.TotalBytes);
        Assert.False(provider.TryGetEncodedCopy(second.PhysicalPath!, "br", out _));

        // Deleted while its coded form is being made: the form is dropped and nothing stays counted.
        File.Delete(file);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(provider.GetFileInfo("/page.html").Exists);
        RunJobs();
        Assert.False(provider.TryGetEncodedCopy(second.PhysicalPath!, "br", out _));
        Assert.Equal(0, provider.TotalBytes);
    }

    [Fact]
    public void Coded_forms_are_made_only_within_the_budget_only_for_held_copies_and_known_codings()
    {
        Write("a.css", Css(40), DateTime.UtcNow);
        Write("b.css", Css(40), DateTime.UtcNow);
        var size = new FileInfo(Path.Combine(_root.FullName, "a.css")).Length;
        using var provider = Provider(maxTotalBytes: size + size / 2);
        var held = provider.GetFileInfo("/a.css").PhysicalPath!;
        var overBudget = provider.GetFileInfo("/b.css").PhysicalPath!;

        Assert.False(provider.TryGetEncodedCopy(held, "br", out _)); // the file and a form as large would not fit
        Assert.False(provider.TryGetEncodedCopy(overBudget, "br", out _)); // served from memory, not held
        Assert.False(provider.TryGetEncodedCopy(held, "deflate", out _));
        Assert.False(provider.TryGetEncodedCopy(Path.Combine(_root.FullName, "a.css"), "br", out _)); // the disk's path
        Assert.Empty(_jobs);
        Assert.Equal(size, provider.TotalBytes);
    }

    [Fact]
    public void Small_file_comes_from_memory_with_the_disks_length_and_time()
    {
        var modified = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        Write("a.txt", "hello", modified);
        using var provider = Provider();

        var file = provider.GetFileInfo("/a.txt");
        var again = provider.GetFileInfo("/a.txt");

        Assert.True(file.Exists);
        Assert.Same(file, again);
        Assert.Equal(5, file.Length);
        Assert.Equal(modified, file.LastModified.UtcDateTime);
        Assert.Equal("hello", Read(file));
        Assert.Equal(5, provider.TotalBytes);
    }

    [Fact]
    public void Edited_file_is_served_new_once_the_revalidation_period_has_passed_even_at_the_same_length()
    {
        Write("page.html", "first", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        using var provider = Provider();
        Assert.Equal("first", Read(provider.GetFileInfo("/page.html")));

        Write("page.html", "again", new DateTime(2026, 1, 1, 0, 0, 1, DateTimeKind.Utc));
        var withinPeriod = provider.GetFileInfo("/page.html");
        _time.Advance(TimeSpan.FromSeconds(1));
        var edited = provider.GetFileInfo("/page.html");
        Write("page.html", "a longer third version", new DateTime(2026, 1, 1, 0, 0, 1, DateTimeKind.Utc));
        _time.Advance(TimeSpan.FromSeconds(1));
        var longer = provider.GetFileInfo("/page.html");

        Assert.Equal("first", Read(withinPeriod));
        Assert.Equal("again", Read(edited));
        Assert.Equal("a longer third version", Read(longer));
        Assert.Equal(longer.Length, provider.TotalBytes);
    }

    [Fact]
    public void A_copy_is_known_by_its_own_path_instance_and_stays_whole_after_an_edit()
    {
        var path = Write("page.html", "first", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        using var provider = Provider();
        var first = provider.GetFileInfo("/page.html");
        Write("page.html", "a second, longer version", new DateTime(2026, 1, 1, 0, 0, 1, DateTimeKind.Utc));
        _time.Advance(TimeSpan.FromSeconds(1));
        var second = provider.GetFileInfo("/page.html");

        Assert.Equal(path, first.PhysicalPath);
        Assert.True(provider.TryGetCopy(first.PhysicalPath!, out var firstBytes));
        Assert.True(provider.TryGetCopy(second.PhysicalPath!, out var secondBytes));
        // A response that began with the first copy's headers still gets the first copy's bytes.
        Assert.Equal("first"u8.ToArray(), firstBytes.ToArray());
        Assert.Equal("a second, longer version"u8.ToArray(), secondBytes.ToArray());
        // An equal string is the disk's path, not a copy.
        Assert.False(provider.TryGetCopy(new string(path.AsSpan()), out _));
        Assert.False(provider.TryGetCopy(path, out _));
    }

    [Fact]
    public void Deleted_file_is_gone_after_the_period_and_its_memory_is_released()
    {
        var path = Write("gone.txt", "soon gone", DateTime.UtcNow);
        using var provider = Provider();
        Assert.True(provider.GetFileInfo("/gone.txt").Exists);

        File.Delete(path);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(provider.GetFileInfo("/gone.txt").Exists);
        Assert.Equal(0, provider.TotalBytes);
    }

    [Fact]
    public void A_freshly_checked_file_is_known_not_to_be_a_directory_without_asking_the_disk()
    {
        Write("a.txt", "text", DateTime.UtcNow);
        Directory.CreateDirectory(Path.Combine(_root.FullName, "docs"));
        using var provider = Provider();
        provider.GetFileInfo("/a.txt");

        Assert.False(provider.GetDirectoryContents("/a.txt/").Exists);
        Assert.False(provider.GetDirectoryContents("/a.txt").Exists);
        Assert.True(provider.GetDirectoryContents("/docs/").Exists);
        Assert.True(provider.GetDirectoryContents("/").Exists);
    }

    [Fact]
    public void Files_above_the_size_limit_are_left_to_the_disk()
    {
        var path = Write("big.bin", new string('x', 100), DateTime.UtcNow);
        using var provider = Provider(maxFileBytes: 99);

        var file = provider.GetFileInfo("big.bin");

        Assert.Equal(path, file.PhysicalPath);
        Assert.Equal(0, provider.TotalBytes);
    }

    [Fact]
    public void Memory_stays_within_the_budget_and_every_file_is_still_served()
    {
        for (var i = 0; i < 5; i++)
        {
            Write($"f{i}.txt", new string((char)('a' + i), 100), DateTime.UtcNow);
        }

        using var provider = Provider(maxTotalBytes: 250);

        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 5; i++)
            {
                Assert.Equal(new string((char)('a' + i), 100), Read(provider.GetFileInfo($"f{i}.txt")));
            }
        }

        Assert.Equal(200, provider.TotalBytes);
    }

    [Fact]
    public void Missing_hidden_and_outside_files_stay_refused_and_directory_listings_pass_through()
    {
        Write(".secret", "hidden", DateTime.UtcNow);
        File.WriteAllText(Path.Combine(_root.Parent!.FullName, _root.Name + "-outside.txt"), "outside");
        Directory.CreateDirectory(Path.Combine(_root.FullName, "docs"));
        using var provider = Provider();
        try
        {
            Assert.False(provider.GetFileInfo("missing.txt").Exists);
            Assert.False(provider.GetFileInfo(".secret").Exists);
            Assert.False(provider.GetFileInfo("../" + _root.Name + "-outside.txt").Exists);
            Assert.True(provider.GetDirectoryContents("docs").Exists);
            Assert.Equal(0, provider.TotalBytes);
        }
        finally
        {
            File.Delete(Path.Combine(_root.Parent!.FullName, _root.Name + "-outside.txt"));
        }
    }
}
