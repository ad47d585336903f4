using System.IO.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;
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
        return (new CachedFileBody(new StreamResponseBodyFeature(_sent), files, new DefaultHttpContext(), null), files);
    }

    [Fact]
    public async Task A_whole_cached_file_goes_out_coded_once_its_form_is_ready_and_a_part_of_it_never_does()
    {
        var css = string.Concat(Enumerable.Repeat("body { color: #123456; margin: 0 auto; }\n", 200));
        await File.WriteAllTextAsync(Path.Combine(_root.FullName, "s.css"), css);
        await File.WriteAllBytesAsync(Path.Combine(_root.FullName, "b.bin"), new byte[300]);
        using var services = new ServiceCollection().AddLogging().AddResponseCompression(o => o.EnableForHttps = true).BuildServiceProvider();
        var compression = services.GetRequiredService<IResponseCompressionProvider>();
        // Coded forms made on the caller's thread: the first request starts one and is compressed as it is sent.
        using var files = new CachedFileProvider(new PhysicalFileProvider(_root.FullName), background: work => work());
        var style = files.GetFileInfo("/s.css").PhysicalPath!;
        var binary = files.GetFileInfo("/b.bin").PhysicalPath!;
        // What goes through the compression middleware's body, and what goes to the body beneath it.
        var viaCompression = new MemoryStream();
        async Task<HttpContext> Send(string path, string type, long? count)
        {
            viaCompression.SetLength(0);
            _sent.SetLength(0);
            var context = new DefaultHttpContext();
            context.Request.Headers.AcceptEncoding = "gzip, br";
            context.Response.ContentType = type;
            var body = new CachedFileBody(new StreamResponseBodyFeature(viaCompression), files, context, compression, new StreamResponseBodyFeature(_sent));
            await body.SendFileAsync(path, 0, count);
            await body.Writer.FlushAsync();
            return context;
        }

        var first = await Send(style, "text/css", null);
        Assert.Equal(css.Length, viaCompression.Length);
        Assert.Equal(0, _sent.Length);
        Assert.Equal("", first.Response.Headers.ContentEncoding.ToString());

        var second = await Send(style, "text/css", null);
        var coded = _sent.ToArray();
        Assert.Equal(0, viaCompression.Length);
        Assert.Equal("br", second.Response.Headers.ContentEncoding.ToString());
        Assert.Equal(coded.Length, second.Response.ContentLength);
        Assert.Equal("Accept-Encoding", second.Response.Headers.Vary.ToString());
        using (var decoder = new BrotliStream(new MemoryStream(coded), CompressionMode.Decompress))
        using (var text = new StreamReader(decoder))
        {
            Assert.Equal(css, await text.ReadToEndAsync());
        }

        // A type the middleware does not compress skips it; a part of a file is never coded.
        var other = await Send(binary, "application/octet-stream", null);
        Assert.Equal(300, _sent.Length);
        Assert.Equal(0, viaCompression.Length);
        Assert.Equal("", other.Response.Headers.ContentEncoding.ToString());
        var part = await Send(style, "text/css", 10);
        Assert.Equal(10, viaCompression.Length);
        Assert.Equal("", part.Response.Headers.ContentEncoding.ToString());
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
