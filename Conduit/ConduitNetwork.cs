using System.Diagnostics;
using System.Net;
using Apps.Conduit.Endpoints;
using Apps.Conduit.Transports;
using Apps.Conduit.Trust;
using Apps.Tls.Adapters;
using Apps.Tls.Engine;
using Apps.TrustStore.Policy;
using Org.BouncyCastle.Security;

namespace Apps.Conduit;

/// <summary>Settings for <see cref="ConduitNetwork"/>.</summary>
public sealed class ConduitOptions
{
    /// <summary>What carries connections; host sockets by default.</summary>
    public IConduitTransport Transport { get; init; } = new HostSocketTransport();

    /// <summary>Fortuna's <see cref="SecureRandom"/>; required for TLS.</summary>
    public SecureRandom? Random { get; init; }

    /// <summary>How TLS clients decide to trust servers; CA roots only when null.</summary>
    public ServerTrust? Trust { get; init; }

    /// <summary>A TLS handshake not finished by then fails.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Looks up SRV records for <c>xmpp://domain</c>; null to go straight to domain:5222.</summary>
    public Dns.SrvResolver? Resolver { get; init; }
}

/// <summary>
/// The network as applications see it: connect to a <see cref="ConduitEndpoint"/> and get a
/// <see cref="ConduitConnection"/>, listen on one and accept, upgrade a plain connection to TLS (STARTTLS).
/// The same code runs over host sockets or our own stack; only <see cref="ConduitOptions.Transport"/> differs.
/// </summary>
public sealed class ConduitNetwork(ConduitOptions options) : IAsyncDisposable
{
    private ServerTrust? _systemTrust;

    /// <summary>The transport in use.</summary>
    public IConduitTransport Transport => options.Transport;

    /// <summary>Connects; <c>tls://</c> endpoints are secured and trusted before this returns.</summary>
    /// <param name="endpoint">Where to connect.</param>
    /// <param name="applicationProtocols">ALPN names to offer for <c>tls://</c> (RFC 7301).</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    /// <exception cref="ConduitTrustException">The server's certificate was refused.</exception>
    /// <exception cref="ConduitException">The connection or handshake failed.</exception>
    public async Task<ConduitConnection> ConnectAsync(ConduitEndpoint endpoint, IReadOnlyList<string>? applicationProtocols = null, CancellationToken cancellationToken = default)
    {
        using var activity = ConduitTelemetry.Source.StartActivity("conduit.connect", ActivityKind.Client);
        activity?.SetTag("endpoint", endpoint.ToString());
        activity?.SetTag("transport", Transport.Name);
        try
        {
            var plain = endpoint.UseSrv && options.Resolver is { } resolver
                ? await ConnectBySrvAsync(resolver, endpoint, activity, cancellationToken).ConfigureAwait(false)
                : await Transport.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("peer", plain.RemoteEndPoint?.ToString());
            if (endpoint.Scheme != EndpointScheme.Tls)
            {
                return plain;
            }

            return await SecureAsync(plain, endpoint.Host, endpoint.Port, applicationProtocols, activity, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    /// <summary>RFC 6120 §3.2.1: try the <c>_xmpp-client._tcp</c> SRV targets in order, then fall back to domain:5222 (§3.2.2).</summary>
    private async Task<ConduitConnection> ConnectBySrvAsync(Dns.SrvResolver resolver, ConduitEndpoint endpoint, Activity? activity, CancellationToken cancellationToken)
    {
        IReadOnlyList<Dns.SrvRecord> targets;
        try
        {
            targets = await resolver.QueryAsync("_xmpp-client._tcp." + endpoint.Host, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Dns.DnsFormatException or TimeoutException or System.Net.Sockets.SocketException)
        {
            activity?.SetTag("srv.error", e.Message);
            targets = [];
        }

        foreach (var target in targets)
        {
            try
            {
                var connection = await Transport.ConnectAsync(target.Target, target.Port, cancellationToken).ConfigureAwait(false);
                activity?.SetTag("srv.target", $"{target.Target}:{target.Port}");
                return connection;
            }
            catch (ConduitException)
            {
                // try the next target
            }
        }

        return await Transport.ConnectAsync(endpoint.Host, endpoint.Port, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>STARTTLS: runs a client handshake over an open plain connection (after the application
    /// protocol agreed to it, e.g. XMPP's &lt;proceed/&gt;, RFC 6120 §5.4.2.3) and returns the secured connection.</summary>
    public async Task<ConduitConnection> StartTlsAsync(ConduitConnection plain, string serverName, int port, IReadOnlyList<string>? applicationProtocols = null, CancellationToken cancellationToken = default)
    {
        using var activity = ConduitTelemetry.Source.StartActivity("conduit.starttls", ActivityKind.Client);
        activity?.SetTag("endpoint", $"{serverName}:{port}");
        activity?.SetTag("transport", plain.Transport);
        return await SecureAsync(plain, serverName, port, applicationProtocols, activity, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Server side of STARTTLS: runs the server handshake over an open plain connection.</summary>
    /// <exception cref="ConduitException">The handshake failed or timed out.</exception>
    public async Task<ConduitConnection> AcceptTlsAsync(ConduitConnection plain, TlsServerOptions tls, CancellationToken cancellationToken = default)
    {
        using var activity = ConduitTelemetry.Source.StartActivity("conduit.tls.accept", ActivityKind.Server);
        activity?.SetTag("peer", plain.RemoteEndPoint?.ToString());
        activity?.SetTag("transport", plain.Transport);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.HandshakeTimeout);
        try
        {
            var secured = await TlsConnection.AcceptAsync(plain, tls, options.Time, deadline.Token).ConfigureAwait(false);
            ConduitTelemetry.TagTls(activity, secured.Connection);
            ConduitTelemetry.Handshakes.Add(1);
            return plain.WithTls(secured);
        }
        catch (Exception e) when (e is TlsException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            ConduitTelemetry.HandshakeFailures.Add(1);
            await plain.DisposeAsync().ConfigureAwait(false);
            throw new ConduitException($"TLS handshake with {plain.RemoteEndPoint} failed: {e.Message}", e);
        }
    }

    /// <summary>Listens; with <paramref name="tls"/> every accepted connection is a TLS server connection.</summary>
    public async Task<ConduitListener> ListenAsync(IPEndPoint local, TlsServerOptions? tls = null, CancellationToken cancellationToken = default)
    {
        var listener = await Transport.ListenAsync(local, cancellationToken).ConfigureAwait(false);
        return new ConduitListener(listener, tls, options.HandshakeTimeout, options.Time);
    }

    private async Task<ConduitConnection> SecureAsync(ConduitConnection plain, string host, int port, IReadOnlyList<string>? alpn, Activity? activity, CancellationToken cancellationToken)
    {
        var random = options.Random ?? throw new InvalidOperationException("ConduitOptions.Random (Fortuna) is required for TLS");
        var trust = options.Trust ?? (_systemTrust ??= ServerTrust.SystemRoots());
        var decision = trust.For(HostPort.Create(host, port), options.Time);
        var clientOptions = new TlsClientOptions
        {
            Random = random,
            ServerName = host,
            Verifier = trust.Verifier,
            Decide = decision.Decide,
            ApplicationProtocols = alpn ?? [],
        };

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.HandshakeTimeout);
        TlsConnection tls;
        try
        {
            tls = await TlsConnection.ConnectAsync(plain, clientOptions, options.Time, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TlsException or OperationCanceledException or IOException)
        {
            await plain.DisposeAsync().ConfigureAwait(false);
            ConduitTelemetry.HandshakeFailures.Add(1);
            if (decision.Rejection is { } rejected)
            {
                throw new ConduitTrustException(rejected.Message, rejected.Reason, e);
            }

            if (e is TlsCertificateRejectedException)
            {
                throw new ConduitTrustException($"{host}:{port}: {e.Message}", null, e);
            }

            if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new ConduitException($"TLS handshake with {host}:{port} did not finish within {options.HandshakeTimeout.TotalSeconds:0}s; check that the port speaks TLS", e);
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw new ConduitException($"TLS handshake with {host}:{port} failed: {e.Message}", e);
        }

        ConduitTelemetry.Handshakes.Add(1);
        ConduitTelemetry.TagTls(activity, tls.Connection);
        if (decision.Acceptance is { } accepted)
        {
            activity?.SetTag("trust.basis", accepted.Basis.ToString());
        }

        return plain.WithTls(tls);
    }

    public ValueTask DisposeAsync() => Transport.DisposeAsync();
}
