using System.Diagnostics;
using Apps.Tls.Adapters;
using Apps.Tls.Engine;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Apps.Conduit.Kestrel;

/// <summary>Settings for serving TLS with our engine in front of Kestrel.</summary>
public sealed class EngineTlsServerSettings
{
    private volatile TlsServerOptions _options = null!;

    /// <summary>
    /// The engine's server options (credentials, ALPN preference, Fortuna). Each connection reads them once, as its
    /// handshake starts: replacing them (a renewed certificate) changes what new connections get, and connections
    /// already accepted keep what they began with.
    /// </summary>
    public required TlsServerOptions Options
    {
        get => _options;
        set => _options = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>A client that has not finished its handshake by then is dropped (slowloris, half-open floods).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Counts what handshakes negotiated; shared with a status page.</summary>
    public TlsTally Tally { get; init; } = new();

    /// <summary>The clock for the handshake timeout.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Names the transport in traces ("host", "tap:NAME", ...).</summary>
    public string TransportName { get; init; } = "host";
}

/// <summary>
/// Kestrel connection middleware that runs our TLS engine over the connection's transport, as Kestrel's own
/// <c>UseHttps</c> does with SslStream: handshake, then the plaintext pipe replaces <c>Transport</c> and
/// <see cref="EngineTlsFeature"/> tells Kestrel the result.
/// </summary>
public static class EngineTlsMiddleware
{
    /// <summary>Serves TLS on this endpoint with our engine; offer "h2" and "http/1.1" in the options' ALPN list.</summary>
    public static ListenOptions UseEngineTls(this ListenOptions listen, EngineTlsServerSettings settings, ILogger logger)
    {
        listen.Use(next => context => HandleAsync(context, next, settings, logger));
        return listen;
    }

    private static async Task HandleAsync(ConnectionContext context, ConnectionDelegate next, EngineTlsServerSettings settings, ILogger logger)
    {
        using var activity = ConduitTelemetry.Source.StartActivity("conduit.tls.accept", ActivityKind.Server);
        activity?.SetTag("endpoint", context.LocalEndPoint?.ToString());
        activity?.SetTag("peer", context.RemoteEndPoint?.ToString());
        activity?.SetTag("transport", settings.TransportName);

        TlsConnection tls;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.ConnectionClosed))
        {
            deadline.CancelAfter(settings.HandshakeTimeout);
            try
            {
                tls = await TlsConnection.AcceptAsync(context.Transport, settings.Options, settings.Time, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TlsException or OperationCanceledException or IOException or ConnectionResetException)
            {
                settings.Tally.RecordFailure();
                ConduitTelemetry.HandshakeFailures.Add(1);
                var why = e is OperationCanceledException ? "no complete handshake in time" : e.Message;
                activity?.SetStatus(ActivityStatusCode.Error, why);
                ConduitLog.HandshakeFailed(logger, context.RemoteEndPoint?.ToString() ?? "?", why);
                return;
            }
        }

        var info = tls.Connection;
        settings.Tally.Record(info);
        ConduitTelemetry.Handshakes.Add(1);
        ConduitTelemetry.TagTls(activity, info);

        var feature = new EngineTlsFeature(info);
        context.Features.Set<ITlsConnectionFeature>(feature);
        context.Features.Set<ITlsHandshakeFeature>(feature);
        context.Features.Set<ITlsApplicationProtocolFeature>(feature);
        var original = context.Transport;
        context.Transport = tls;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            context.Transport = original;
        }
    }
}
