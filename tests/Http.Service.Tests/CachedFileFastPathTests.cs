using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Http.Service.Tests;

/// <summary>The plainest requests for cached files are answered at once; everything else is left to the full path.</summary>
public sealed class CachedFileFastPathTests : IDisposable
{
    private static readonly string Css = string.Concat(Enumerable.Repeat("body { color: #123456; margin: 0 auto; }\n", 200));
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("fast-path-");
    private readonly FakeTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddLogging().AddResponseCompression(o => o.EnableForHttps = true).BuildServiceProvider();
    private readonly CachedFileProvider _files;
    private readonly CachedFileFastPath _fast;

    public CachedFileFastPathTests()
    {
        File.WriteAllText(Path.Combine(_root.FullName, "s.css"), Css);
        File.WriteAllBytes(Path.Combine(_root.FullName, "b.bin"), new byte[300]);
        File.WriteAllText(Path.Combine(_root.FullName, "notes"), "no extension");
        // Coded forms are made on the caller's thread.
        _files = new CachedFileProvider(new PhysicalFileProvider(_root.FullName), _time, background: work => work());
        _fast = new CachedFileFastPath(_files, _services.GetRequiredService<IResponseCompressionProvider>());
        foreach (var path in new[] { "/s.css", "/b.bin", "/notes" })
        {
            _files.GetFileInfo(path); // as the static-file middleware's lookup caches it
        }
    }

    public void Dispose()
    {
        _files.Dispose();
        _services.Dispose();
        _root.Delete(recursive: true);
    }

    private static (DefaultHttpContext Context, MemoryStream Sent) Request(string path, string method = "GET", params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Path = path;
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        var sent = new MemoryStream();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(sent));
        return (context, sent);
    }

    [Fact]
    public async Task A_fresh_cached_file_goes_out_with_the_static_file_headers_and_HEAD_gets_them_without_the_body()
    {
        var (get, sent) = Request("/s.css");
        var (head, headSent) = Request("/s.css", "HEAD");
        var info = _files.GetFileInfo("/s.css");

        await Assert.IsType<Task>(_fast.TryServe(get), exactMatch: false);
        await Assert.IsType<Task>(_fast.TryServe(head), exactMatch: false);

        Assert.Equal(Css, System.Text.Encoding.ASCII.GetString(sent.ToArray()));
        var headers = get.Response.Headers;
        Assert.Equal(200, get.Response.StatusCode);
        Assert.Equal("text/css", headers.ContentType.ToString());
        Assert.Equal(Css.Length, get.Response.ContentLength);
        Assert.Equal("bytes", headers.AcceptRanges.ToString());
        Assert.Matches("^\"[0-9a-f]+\"$", headers.ETag.ToString());
        var modified = info.LastModified.ToUniversalTime();
        Assert.Equal(new DateTimeOffset(modified.Year, modified.Month, modified.Day, modified.Hour, modified.Minute, modified.Second, TimeSpan.Zero).ToString("r"), headers.LastModified.ToString());
        Assert.Equal("", headers.ContentEncoding.ToString());
        Assert.Equal(0, headSent.Length);
        Assert.Equal(Css.Length, head.Response.ContentLength);
        Assert.Equal(headers.ETag, head.Response.Headers.ETag);
    }

    [Theory]
    [InlineData("/s.css", "POST", null, null)]
    [InlineData("/s.css", "GET", "Range", "bytes=0-9")]
    [InlineData("/s.css", "GET", "If-None-Match", "\"x\"")]
    [InlineData("/s.css", "GET", "If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")]
    [InlineData("/s.css", "GET", "If-Match", "*")]
    [InlineData("/s.css", "GET", "If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT")]
    [InlineData("/s.css", "GET", "If-Range", "\"x\"")]
    [InlineData("/", "GET", null, null)]
    [InlineData("/sub/", "GET", null, null)]
    [InlineData("/notes", "GET", null, null)] // no content type: the static-file middleware answers 404
    [InlineData("/missing.css", "GET", null, null)]
    [InlineData("/S.CSS", "GET", null, null)]
    public void Requests_it_does_not_answer_go_on_untouched(string path, string method, string? header, string? value)
    {
        var (context, sent) = header is null ? Request(path, method) : Request(path, method, (header, value!));

        Assert.Null(_fast.TryServe(context));
        Assert.Empty(context.Response.Headers);
        Assert.Equal(0, sent.Length);
    }

    [Fact]
    public void A_request_an_endpoint_matched_goes_on_to_it()
    {
        var (context, _) = Request("/s.css");
        context.SetEndpoint(new Endpoint(_ => Task.CompletedTask, null, "status"));

        Assert.Null(_fast.TryServe(context));
    }

    [Fact]
    public async Task A_copy_due_for_its_check_against_the_disk_goes_to_the_full_path_which_checks_it()
    {
        _time.Advance(CachedFileProvider.DefaultRevalidateAfter);

        Assert.Null(_fast.TryServe(Request("/s.css").Context));

        _files.GetFileInfo("/s.css"); // the full path's lookup: one stat, and the copy is fresh again
        await Assert.IsType<Task>(_fast.TryServe(Request("/s.css").Context), exactMatch: false);
    }

    [Fact]
    public async Task A_coding_goes_to_the_full_path_until_its_form_is_made_then_the_form_goes_out_whole()
    {
        var (first, firstSent) = Request("/s.css", "GET", ("Accept-Encoding", "gzip"));
        Assert.Null(_fast.TryServe(first)); // and the lookup made the form (here, on this thread)
        Assert.Empty(first.Response.Headers);
        Assert.Equal(0, firstSent.Length);

        var (second, sent) = Request("/s.css", "GET", ("Accept-Encoding", "gzip"));
        await Assert.IsType<Task>(_fast.TryServe(second), exactMatch: false);

        var headers = second.Response.Headers;
        Assert.Equal("gzip", headers.ContentEncoding.ToString());
        Assert.Equal(sent.Length, second.Response.ContentLength);
        Assert.Equal("Accept-Encoding", headers.Vary.ToString());
        Assert.Equal("", headers.AcceptRanges.ToString());
        Assert.Matches("^W/\"[0-9a-f]+\"$", headers.ETag.ToString());
        sent.Position = 0;
        using var gzip = new System.IO.Compression.GZipStream(sent, System.IO.Compression.CompressionMode.Decompress);
        Assert.Equal(Css, new StreamReader(gzip).ReadToEnd());
    }

    [Fact]
    public async Task A_type_that_is_not_compressed_goes_out_as_it_is_to_a_client_that_accepts_codings()
    {
        var (context, sent) = Request("/b.bin", "GET", ("Accept-Encoding", "br, gzip"));

        await Assert.IsType<Task>(_fast.TryServe(context), exactMatch: false);

        Assert.Equal(300, sent.Length);
        Assert.Equal("", context.Response.Headers.ContentEncoding.ToString());
        Assert.Equal("bytes", context.Response.Headers.AcceptRanges.ToString());
        Assert.Equal("", context.Response.Headers.Vary.ToString());
    }
}
