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

    /// <summary>A connection (over any transport) not made by then fails; Happy Eyeballs races inside this bound.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock for the connect and handshake timeouts.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Looks up SRV records for <c>xmpp://domain</c>; null to go straight to domain:5222.</summary>
    public Dns.DnsResolver? Resolver { get; init; }
}

/// <summary>
/// The network as applications see it: connect to a <see cref="ConduitEndpoint"/> and get a
/// <see cref="ConduitConnection"/>, listen on one and accept, upgrade a plain connection to TLS (STARTTLS).
/// The same code runs over host sockets or our own stack; only <see cref="ConduitOptions.Transport"/> differs.
/// </summary>
public sealed partial class ConduitNetwork(ConduitOptions options) : IAsyncDisposable
{
    private ServerTrust? _systemTrust;

    /// <summary>The transport in use.</summary>
    public IConduitTransport Transport => options.Transport;

    /// <summary>
    /// Connects. <c>tcp://</c> gives a plain connection; <c>tls://</c> is secured and trusted before this returns;
    /// <c>xmpp://domain</c> follows the SRV records (direct TLS targets come back secured, STARTTLS ones plain: see
    /// <see cref="ConduitConnection.Target"/>).
    /// </summary>
    /// <param name="endpoint">Where to connect.</param>
    /// <param name="applicationProtocols">ALPN names to offer under TLS (RFC 7301); <c>xmpp-client</c> by default for
    /// direct TLS XMPP targets.</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    /// <exception cref="ConduitTrustException">The server's certificate was refused.</exception>
    /// <exception cref="ConduitException">The connection or handshake failed, or took longer than
    /// <see cref="ConduitOptions.ConnectTimeout"/> / <see cref="ConduitOptions.HandshakeTimeout"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<ConduitConnection> ConnectAsync(ConduitEndpoint endpoint, IReadOnlyList<string>? applicationProtocols = null, CancellationToken cancellationToken = default)
    {
        using var activity = ConduitTelemetry.Source.StartActivity("conduit.connect", ActivityKind.Client);
        activity?.SetTag("endpoint", endpoint.ToString());
        activity?.SetTag("transport", Transport.Name);
        try
        {
            if (endpoint.Scheme == EndpointScheme.Xmpp)
            {
                return await ConnectXmppAsync(endpoint, applicationProtocols, activity, cancellationToken).ConfigureAwait(false);
            }

            var target = new ConnectTarget(endpoint.Host, endpoint.Port, endpoint.Scheme == EndpointScheme.Tls ? TargetSecurity.DirectTls : TargetSecurity.Plain);
            return await ConnectTargetAsync(target, endpoint.Host, endpoint.Port, applicationProtocols, activity, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    /// <summary>Dials one target within <see cref="ConduitOptions.ConnectTimeout"/> and, for direct TLS, secures it
    /// for <paramref name="serverName"/> (whose certificate, and pin under <paramref name="serverName"/>:<paramref name="pinPort"/>, are checked).</summary>
    private async Task<ConduitConnection> ConnectTargetAsync(ConnectTarget target, string serverName, int pinPort, IReadOnlyList<string>? alpn, Activity? activity, CancellationToken cancellationToken)
    {
        var plain = await DialAsync(target.Host, target.Port, cancellationToken).ConfigureAwait(false);
        plain.Target = target;
        activity?.SetTag("target", target.ToString());
        activity?.SetTag("target.security", target.Security.ToString());
        activity?.SetTag("peer", plain.RemoteEndPoint?.ToString());
        activity?.SetTag("local", plain.LocalEndPoint?.ToString());
        if (target.Security != TargetSecurity.DirectTls)
        {
            return plain;
        }

        return await SecureAsync(plain, serverName, pinPort, alpn, activity, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The transport's connect, bounded by <see cref="ConduitOptions.ConnectTimeout"/> on the injected clock.</summary>
    private async Task<ConduitConnection> DialAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(options.ConnectTimeout, options.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await Transport.ConnectAsync(host, port, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ConduitException($"no connection to {host} port {port} over {Transport.Name} within {options.ConnectTimeout.TotalSeconds:0.#}s; check that the host is reachable and nothing drops the traffic", e);
        }
    }

    /// <summary>STARTTLS: runs a client handshake over an open plain connection (after the application
    /// protocol agreed to it, e.g. XMPP's &lt;proceed/&gt;, RFC 6120 §5.4.2.3) and returns the secured connection.</summary>
    public async Task<ConduitConnection> StartTlsAsync(ConduitConnection plain, string serverName, int port, IReadOnlyList<string>? applicationProtocols = null, CancellationToken cancellationToken = default)
    {
        using var activity = ConduitTelemetry.Source.StartActivity("conduit.starttls", ActivityKind.Client);
        activity?.SetTag("endpoint", $"{serverName}:{port}");
        activity?.SetTag("transport", plain.Transport);
        activity?.SetTag("peer", plain.RemoteEndPoint?.ToString());
        try
        {
            return await SecureAsync(plain, serverName, port, applicationProtocols, activity, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    /// <summary>Server side of STARTTLS: runs the server handshake over an open plain connection.</summary>
    /// <exception cref="ConduitException">The handshake failed or timed out.</exception>
    public async Task<ConduitConnection> AcceptTlsAsync(ConduitConnection plain, TlsServerOptions tls, CancellationToken cancellationToken = default)
    {
        using var activity = ConduitTelemetry.Source.StartActivity("conduit.tls.accept", ActivityKind.Server);
        activity?.SetTag("endpoint", plain.LocalEndPoint?.ToString());
        activity?.SetTag("peer", plain.RemoteEndPoint?.ToString());
        activity?.SetTag("transport", plain.Transport);
        using var timeout = new CancellationTokenSource(options.HandshakeTimeout, options.Time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
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

        using var timeout = new CancellationTokenSource(options.HandshakeTimeout, options.Time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
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
