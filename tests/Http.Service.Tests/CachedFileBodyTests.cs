using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;

namespace Apps.Http.Service.Tests;

/// <summary>Sending a cached file writes the copy; any other path is read from disk by the feature underneath.</summary>
public sealed class CachedFileBodyTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("cached-body-");
    private readonly MemoryStream _sent = new();

    public void Dispose() => _root.Delete(recursive: true);

    private (CachedFileBody Body, CachedFileProvider Files) Create()
    {
        var files = new CachedFileProvider(new PhysicalFileProvider(_root.FullName));
        return (new CachedFileBody(new StreamResponseBodyFeature(_sent), files), files);
    }

    private string Sent() => System.Text.Encoding.ASCII.GetString(_sent.ToArray());

    [Fact]
    public async Task A_cached_file_is_sent_from_its_copy_even_after_the_disk_changed()
    {
        var path = Path.Combine(_root.FullName, "a.txt");
        await File.WriteAllTextAsync(path, "0123456789");
        var (body, files) = Create();
        using var _ = files;
        var copy = files.GetFileInfo("/a.txt");
        await File.WriteAllTextAsync(path, "changed on disk");

        await body.SendFileAsync(copy.PhysicalPath!, 0, null);
        await body.SendFileAsync(copy.PhysicalPath!, 3, 4);
        await body.Writer.FlushAsync();

        Assert.Equal("01234567893456", Sent());
    }

    [Fact]
    public async Task Any_other_path_is_read_from_the_disk()
    {
        var path = Path.Combine(_root.FullName, "b.txt");
        await File.WriteAllTextAsync(path, "from the disk");
        var (body, files) = Create();
        using var _ = files;
        files.GetFileInfo("/b.txt");

        await body.SendFileAsync(path, 5, 3); // an equal string, not the copy's own instance

        Assert.Equal("the", Sent());
    }

    [Theory]
    [InlineData(-1, null)]
    [InlineData(11, null)]
    [InlineData(0, 11L)]
    [InlineData(8, 3L)]
    [InlineData(0, -1L)]
    public async Task Ranges_outside_the_copy_are_refused(long offset, long? count)
    {
        await File.WriteAllTextAsync(Path.Combine(_root.FullName, "c.txt"), "0123456789");
        var (body, files) = Create();
        using var _ = files;
        var copy = files.GetFileInfo("/c.txt");

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => body.SendFileAsync(copy.PhysicalPath!, offset, count));
        Assert.Empty(_sent.ToArray());
    }
}
