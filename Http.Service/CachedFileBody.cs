using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.ResponseCompression;

namespace Apps.Http.Service;

/// <summary>
/// The response body, with one change: sending a file that <see cref="CachedFileProvider"/> holds in memory writes
/// that copy into the response's writer (one copy, into Kestrel's buffer, as nginx copies a file once from its page
/// cache). When the response compression middleware would compress the whole file, the copy's coded form, made once,
/// goes out instead, with its Content-Encoding and Content-Length. Whatever the middleware is not to compress is
/// written to the body beneath it (<paramref name="uncompressed"/>), past the stream adapter it puts in front of every
/// response to a client that accepts a coding. Any other file goes to the feature underneath, which reads the disk.
/// </summary>
internal sealed class CachedFileBody(IHttpResponseBodyFeature inner, CachedFileProvider files, HttpContext context,
    IResponseCompressionProvider? compression, IHttpResponseBodyFeature? uncompressed = null) : IHttpResponseBodyFeature
{
    public Stream Stream => inner.Stream;

    public PipeWriter Writer => inner.Writer;

    public void DisableBuffering() => inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    public Task CompleteAsync() => inner.CompleteAsync();

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        if (!files.TryGetCopy(path, out var bytes))
        {
            return inner.SendFileAsync(path, offset, count, cancellationToken);
        }

        // The same checks as Kestrel's own SendFileAsync makes of a file on disk.
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, bytes.Length);
        var length = count ?? bytes.Length - offset;
        ArgumentOutOfRangeException.ThrowIfNegative(length, nameof(count));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, bytes.Length - offset, nameof(count));
        var body = bytes.Slice((int)offset, (int)length);
        var writer = inner.Writer;
        // The middleware's own choice (HTTPS allowed, Accept-Encoding and its q-values, the content type), taken before
        // anything is written, while the response has no Content-Encoding yet.
        if (compression is not null && uncompressed is not null && compression.CheckRequestAcceptsCompression(context))
        {
            if (!compression.ShouldCompressResponse(context))
            {
                writer = uncompressed.Writer;
            }
            else if (compression.GetCompressionProvider(context) is not { } provider)
            {
                ContentCodingHeaders.AddVary(context.Response.Headers); // as the middleware says of a type it compresses
                writer = uncompressed.Writer;
            }
            else if (length == bytes.Length && files.TryGetEncodedCopy(path, provider.EncodingName, out var encoded))
            {
                var headers = context.Response.Headers;
                headers.ContentEncoding = provider.EncodingName;
                headers.ContentLength = encoded.Length;
                ContentCodingHeaders.AddVary(headers);
                body = encoded;
                writer = uncompressed.Writer;
            }
        }

        var flushed = writer.WriteAsync(body, cancellationToken);
        return flushed.IsCompletedSuccessfully ? Task.CompletedTask : flushed.AsTask();
    }
}
