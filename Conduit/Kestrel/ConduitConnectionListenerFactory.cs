using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using Apps.Conduit.Transports;
using Apps.Stack;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Apps.Conduit.Kestrel;

/// <summary>
/// Kestrel's transport over conduit listeners: binds only <see cref="ConduitListenEndPoint"/>s (so Kestrel's own
/// socket transport keeps any other endpoint) and hands Kestrel each accepted <see cref="ConduitConnection"/>.
/// Register with <c>services.AddSingleton&lt;IConnectionListenerFactory&gt;(new ConduitConnectionListenerFactory(transport))</c>.
/// </summary>
public sealed class ConduitConnectionListenerFactory(IConduitTransport transport) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is ConduitListenEndPoint;

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not ConduitListenEndPoint conduit)
        {
            throw new NotSupportedException($"the conduit transport binds ConduitListenEndPoint only, not {endpoint.GetType().Name}");
        }

        var listener = await transport.ListenAsync(conduit.Local, cancellationToken).ConfigureAwait(false);
        return new Listener(listener);
    }

    private sealed class Listener(IConduitListener listener) : IConnectionListener
    {
        private static long s_nextId;

        public EndPoint EndPoint { get; } = new ConduitListenEndPoint(listener.LocalEndPoint);

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                var connection = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                if (connection is null)
                {
                    return null;
                }

                // The transport's accept is its own span, plain listeners (such as --http-port) included; on a
                // TLS endpoint EngineTlsMiddleware adds "conduit.tls.accept" for the handshake that follows.
                using (var activity = ConduitTelemetry.Source.StartActivity("conduit.accept", ActivityKind.Server))
                {
                    activity?.SetTag("endpoint", EndPoint.ToString());
                    activity?.SetTag("peer", connection.RemoteEndPoint?.ToString());
                    activity?.SetTag("transport", connection.Transport);
                }

                return new Context(connection, "conduit-" + Interlocked.Increment(ref s_nextId).ToString("x", System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => listener.DisposeAsync();

        public ValueTask DisposeAsync() => listener.DisposeAsync();
    }

    private sealed class Context : ConnectionContext, IMemoryPoolFeature
    {
        private readonly ConduitConnection _connection;

        public Context(ConduitConnection connection, string id)
        {
            _connection = connection;
            ConnectionId = id;
            Transport = connection;
            LocalEndPoint = connection.LocalEndPoint;
            RemoteEndPoint = connection.RemoteEndPoint;
            ConnectionClosed = connection.Closed;
            // Kestrel's own pipes (HTTP/2 input, per-stream output) rent from this pool, not ArrayPool.Shared.
            Features.Set<IMemoryPoolFeature>(this);
        }

        MemoryPool<byte> IMemoryPoolFeature.MemoryPool => BlockMemoryPool.Shared;

        public override string ConnectionId { get; set; }

        public override IFeatureCollection Features { get; } = new FeatureCollection();

        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        public override IDuplexPipe Transport { get; set; }

        public override CancellationToken ConnectionClosed { get; set; }

        public override void Abort(ConnectionAbortedException abortReason) => _connection.Abort();

        public override ValueTask DisposeAsync() => _connection.DisposeAsync();
    }
}
