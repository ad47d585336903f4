using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.Primitives;

namespace Apps.Http.Service;

/// <summary>
/// Answers the plainest request for a file the cache holds in memory, a GET or HEAD with no range and no
/// precondition, before the default-files, compression and static-file middlewares see it, with the headers they would
/// have written, made once per copy. Anything else (ranges, conditional requests, directories, files not cached or due
/// for their check against the disk, a coding whose form is not made yet) goes on to those middlewares, which remain
/// the one full implementation. Measured in Http.Service/design.md ("Cached files straight to the response").
/// </summary>
internal sealed class CachedFileFastPath(CachedFileProvider files, IResponseCompressionProvider compression)
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();
    private static readonly StringValues Bytes = "bytes";

    /// <summary>The response being written, or null when the request is not one this path answers.</summary>
    public Task? TryServe(HttpContext context)
    {
        var request = context.Request;
        var head = HttpMethods.IsHead(request.Method);
        if (!head && !HttpMethods.IsGet(request.Method) || context.GetEndpoint() is not null || request.PathBase.HasValue)
        {
            return null;
        }

        var path = request.Path.Value;
        var asked = request.Headers;
        if (path is null || path.Length < 2 || path[^1] == '/'
            || asked.Range.Count > 0 || asked.IfRange.Count > 0 || asked.IfMatch.Count > 0 || asked.IfNoneMatch.Count > 0
            || asked.IfModifiedSince.Count > 0 || asked.IfUnmodifiedSince.Count > 0
            || files.GetFresh(path) is not { } file || !ContentTypes.TryGetContentType(path, out var type))
        {
            return null;
        }

        var response = context.Response;
        var headers = response.Headers;
        headers.ContentType = type;
        ReadOnlyMemory<byte> body = file.Bytes;
        // The compression middleware's own choice (HTTPS allowed, the type, Accept-Encoding and its q-values).
        if (!StringValues.IsNullOrEmpty(asked.AcceptEncoding) && compression.ShouldCompressResponse(context))
        {
            if (compression.GetCompressionProvider(context) is not { } coder || !files.TryGetEncodedCopy(file.PhysicalPath, coder.EncodingName, out body))
            {
                // No coding to offer, or its form not made yet (the lookup has started it): the full path compresses as it sends.
                headers.ContentType = default;
                return null;
            }

            // As ContentCodingHeaders gives a coded response: weak ETag, Vary, no ranges.
            headers.ContentEncoding = coder.EncodingName;
            ContentCodingHeaders.AddVary(headers);
            headers.ETag = file.WeakETag;
        }
        else
        {
            headers.AcceptRanges = Bytes;
            headers.ETag = file.ETag;
        }

        headers.LastModified = file.LastModifiedHeader;
        response.ContentLength = body.Length;
        if (head)
        {
            return Task.CompletedTask;
        }

        var written = response.BodyWriter.WriteAsync(body, context.RequestAborted);
        return written.IsCompletedSuccessfully ? Task.CompletedTask : written.AsTask();
    }
}
