using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Apps.Http.Service;

/// <summary>
/// The validators of a content-coded static file (RFC 9110 §8.8.3). Its bytes are not the file's, so the strong ETag
/// the static-file middleware made from the file would claim a byte equality it does not have. As nginx does when it
/// compresses, the ETag turns weak (<c>W/"..."</c>), which If-None-Match still matches (weak comparison, §13.1.2),
/// and Accept-Ranges goes, since ranges are served uncoded. A 304 to a request that would have been coded carries the
/// same weak ETag and Vary, as §15.4.5 asks of it.
/// </summary>
internal static class ContentCodingHeaders
{
    private static readonly StringValues AcceptEncoding = HeaderNames.AcceptEncoding;

    /// <summary>
    /// Fixes the headers as the response starts, after compression has chosen, when the request accepts a coding at all.
    /// And since the static-file middleware compares If-None-Match strongly, where §13.1.2 asks for weak comparison, a
    /// weak tag there is passed on as its strong self: a client revalidating a coded copy by its weak ETag gets its 304.
    /// </summary>
    public static void Register(HttpContext context, IResponseCompressionProvider compression, bool acceptsCoding)
    {
        var ifNoneMatch = context.Request.Headers.IfNoneMatch;
        if (ifNoneMatch.Count > 0 && ifNoneMatch.ToString().Contains("W/", StringComparison.Ordinal)
            && EntityTagHeaderValue.TryParseList(ifNoneMatch, out var tags))
        {
            // Parsed, not searched: an opaque tag may itself hold "W/" (and commas).
            context.Request.Headers.IfNoneMatch = string.Join(", ", tags.Select(tag => tag.Tag.ToString()));
        }

        if (acceptsCoding)
        {
            context.Response.OnStarting(Apply, (context, compression));
        }
    }

    /// <summary>Says that the response depends on Accept-Encoding, once.</summary>
    public static void AddVary(IHeaderDictionary headers)
    {
        var vary = headers.Vary;
        foreach (var value in vary)
        {
            if (value is not null && value.Contains(HeaderNames.AcceptEncoding, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }
        }

        headers.Vary = StringValues.Concat(vary, AcceptEncoding);
    }

    private static readonly Func<object, Task> Apply = state =>
    {
        var (context, compression) = ((HttpContext, IResponseCompressionProvider))state;
        var response = context.Response;
        var headers = response.Headers;
        if (StringValues.IsNullOrEmpty(headers.ContentEncoding))
        {
            if (response.StatusCode != StatusCodes.Status304NotModified || !compression.CheckRequestAcceptsCompression(context)
                || !compression.ShouldCompressResponse(context) || compression.GetCompressionProvider(context) is null)
            {
                return Task.CompletedTask;
            }

            AddVary(headers);
        }

        var etag = headers.ETag.ToString();
        if (etag.Length > 0 && !etag.StartsWith("W/", StringComparison.Ordinal))
        {
            headers.ETag = "W/" + etag;
        }

        headers.AcceptRanges = default;
        return Task.CompletedTask;
    };
}
