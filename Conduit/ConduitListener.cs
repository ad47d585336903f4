using System.Diagnostics;
using System.Net;
using Apps.Conduit.Transports;
using Apps.Tls.Adapters;
using Apps.Tls.Engine;

namespace Apps.Conduit;

/// <summary>Accepts connections from a transport listener, running the TLS server handshake when configured.</summary>
public sealed class ConduitListener : IAsyncDisposable
{
    private readonly IConduitListener _listener;
    private readonly TlsServerOptions? _tls;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TimeProvider _time;

    internal ConduitListener(IConduitListener listener, TlsServerOptions? tls, TimeSpan handshakeTimeout, TimeProvider time)
    {
        _listener = listener;
        _tls = tls;
        _handshakeTimeout = handshakeTimeout;
        _time = time;
    }

    public IPEndPoint LocalEndPoint => _listener.LocalEndPoint;

    /// <summary>The next connection (secured when TLS is configured), or null once stopped. A client whose
    /// handshake fails is dropped and the next one awaited.</summary>
    public async ValueTask<ConduitConnection?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var plain = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            if (plain is null)
            {
                return null;
            }

            // Every connection is one span: "conduit.accept" for plain ones, "conduit.tls.accept" covering the handshake.
            using var activity = ConduitTelemetry.Source.StartActivity(_tls is null ? "conduit.accept" : "conduit.tls.accept", ActivityKind.Server);
            activity?.SetTag("endpoint", LocalEndPoint.ToString());
            activity?.SetTag("peer", plain.RemoteEndPoint?.ToString());
            activity?.SetTag("transport", plain.Transport);
            if (_tls is null)
            {
                return plain;
            }

            using var timeout = new CancellationTokenSource(_handshakeTimeout, _time);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                var tls = await TlsConnection.AcceptAsync(plain, _tls, _time, deadline.Token).ConfigureAwait(false);
                ConduitTelemetry.TagTls(activity, tls.Connection);
                ConduitTelemetry.Handshakes.Add(1);
                return plain.WithTls(tls);
            }
            catch (Exception e) when (e is TlsException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                ConduitTelemetry.HandshakeFailures.Add(1);
                await plain.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public ValueTask DisposeAsync() => _listener.DisposeAsync();
}
