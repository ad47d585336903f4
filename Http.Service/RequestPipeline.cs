using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Apps.Http.Service;

/// <summary>The service's middleware, outermost first: access log, security headers, HTTP→HTTPS redirect, routing
/// (/healthz, /status), the fast path for cached files, compression, static files or the status page.</summary>
internal static class RequestPipeline
{
    /// <summary>The CSP sent with every response: same-origin only, no framing, the status page's one inline style by hash.</summary>
    public static readonly string ContentSecurityPolicy =
        "default-src 'self'; style-src 'self' " + StatusPage.StyleHashSource + "; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static void Configure(WebApplication app, ServiceSettings settings, ServiceStatus status, Func<int> httpsPort, ILogger accessLog)
    {
        var time = TimeProvider.System;
        // While the access log's level is off a request costs one IsEnabled check here (no timing, no peer address string).
        app.Use((context, next) => accessLog.IsEnabled(LogLevel.Information) ? LoggedAsync(context, next, accessLog) : next(context));

        app.Use((context, next) =>
        {
            context.Response.OnStarting(AddSecurityHeaders, context);
            return next(context);
        });

        app.Use((context, next) =>
        {
            if (context.Request.IsHttps)
            {
                return next(context);
            }

            // The plain --http-port listener only redirects (RFC 9110 §15.4.9 308 keeps the method).
            var port = httpsPort();
            var target = "https://" + FormatHost(context.Request.Host.Host) + (port == 443 ? "" : ":" + port)
                + context.Request.PathBase + context.Request.Path + context.Request.QueryString;
            context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
            context.Response.Headers.Location = target;
            return Task.CompletedTask;
        });

        app.MapGet("/healthz", (HttpContext context) => Uncompressed(context, Results.Text("ok\n", "text/plain")));
        app.MapGet("/status", (HttpContext context) => Uncompressed(context, StatusPageResult(status, time)));

        var root = settings.Root;
        var files = root is null ? null : new CachedFileProvider(new PhysicalFileProvider(Path.GetFullPath(root)));
        var compression = app.Services.GetRequiredService<IResponseCompressionProvider>();
        if (files is not null)
        {
            // Routing here, not first: the fast path must know whether /healthz or /status matched.
            app.UseRouting();
            var fast = new CachedFileFastPath(files, compression);
            app.Use((context, next) => fast.TryServe(context) ?? next(context));
        }

        // Compressing a byte range would change what the range means; serve ranges uncompressed. And static files keep
        // the body beneath the compression middleware, for what it is not to compress (CachedFileBody).
        app.Use((context, next) =>
        {
            if (context.Request.Headers.ContainsKey(HeaderNames.Range))
            {
                context.Request.Headers.AcceptEncoding = default;
            }
            else if (files is not null && AcceptsCoding(context))
            {
                context.Features.Set(new UncompressedBody(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>()));
            }

            return next(context);
        });
        app.UseResponseCompression();

        if (files is not null)
        {
            // Inside compression, so that a response it would compress gets the cached copy's coded form (or, for a
            // file not cached, is compressed as it is sent).
            app.Use(async (context, next) =>
            {
                // A request that accepts no coding (wrk's, curl's by default) costs nothing more here.
                var accepts = AcceptsCoding(context);
                ContentCodingHeaders.Register(context, compression, accepts);
                var body = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
                context.Features.Set<IHttpResponseBodyFeature>(new CachedFileBody(body, files, context, compression,
                    accepts ? context.Features.Get<UncompressedBody>()?.Body : null));
                try
                {
                    await next(context);
                }
                finally
                {
                    context.Features.Set(body);
                }
            });
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        }
        else
        {
            app.MapGet("/", (HttpContext context) => Uncompressed(context, StatusPageResult(status, time)));
        }
    }

    private static IResult StatusPageResult(ServiceStatus status, TimeProvider time) =>
        Results.Content(StatusPage.Render(status, time.GetUtcNow()), "text/html; charset=utf-8");

    /// <summary>
    /// A page made per request goes out uncompressed. Coding the 2 KB status page saves about 1 KB and costs a
    /// compression per view, and compressing what is made per request is what BREACH exploits when such a page holds
    /// a secret and reflects input; ours holds neither today, and scanners (testssl) rightly cannot tell.
    /// </summary>
    private static IResult Uncompressed(HttpContext context, IResult result)
    {
        if (context.Features.Get<IHttpsCompressionFeature>() is { } compression)
        {
            compression.Mode = HttpsCompressionMode.DoNotCompress;
        }

        return result;
    }

    private static bool AcceptsCoding(HttpContext context) =>
        !Microsoft.Extensions.Primitives.StringValues.IsNullOrEmpty(context.Request.Headers.AcceptEncoding);

    /// <summary>The response body as it was before the compression middleware wrapped it.</summary>
    private sealed record UncompressedBody(IHttpResponseBodyFeature Body);

    private static async Task LoggedAsync(HttpContext context, RequestDelegate next, ILogger accessLog)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var request = context.Request;
            ServiceLog.Access(accessLog, context.Connection.RemoteIpAddress?.ToString() ?? "-", request.Method,
                request.Path.Value ?? "/", request.Protocol, context.Response.StatusCode, context.Response.ContentLength,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>Added as the response starts, so that error responses carry them too.</summary>
    private static readonly Func<object, Task> AddSecurityHeaders = state =>
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        if (context.Request.IsHttps)
        {
            // RFC 6797 §6.1: only over a secure transport.
            headers.StrictTransportSecurity = StrictTransportSecurity;
        }

        headers.XContentTypeOptions = NoSniff;
        headers.ContentSecurityPolicy = ContentSecurityPolicyValue;
        headers["Referrer-Policy"] = NoReferrer;
        headers.XFrameOptions = Deny;
        return Task.CompletedTask;
    };

    // Header values made once: a StringValues wraps its string without copying.
    private static readonly Microsoft.Extensions.Primitives.StringValues StrictTransportSecurity = "max-age=31536000";
    private static readonly Microsoft.Extensions.Primitives.StringValues NoSniff = "nosniff";
    private static readonly Microsoft.Extensions.Primitives.StringValues ContentSecurityPolicyValue = ContentSecurityPolicy;
    private static readonly Microsoft.Extensions.Primitives.StringValues NoReferrer = "no-referrer";
    private static readonly Microsoft.Extensions.Primitives.StringValues Deny = "DENY";

    private static string FormatHost(string host) =>
        host.Length == 0 ? "localhost" : host.Contains(':') && !host.StartsWith('[') ? "[" + host + "]" : host;
}
