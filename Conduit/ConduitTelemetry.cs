using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Apps.Conduit;

/// <summary>
/// The Conduit layer's <see cref="ActivitySource"/> and <see cref="Meter"/>, both named <c>Apps.Conduit</c>
/// (ARCHITECTURE.md, Observability). Every connection is one activity tagged with its endpoint, transport
/// and, once negotiated, TLS version, cipher suite and ALPN protocol.
/// </summary>
public static class ConduitTelemetry
{
    /// <summary>The name of the source and the meter.</summary>
    public const string Name = "Apps.Conduit";

    internal static readonly ActivitySource Source = new(Name);

    internal static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Handshakes = Meter.CreateCounter<long>("conduit.tls.handshakes", description: "TLS handshakes completed");

    internal static readonly Counter<long> HandshakeFailures = Meter.CreateCounter<long>("conduit.tls.handshake_failures", description: "TLS handshakes that failed or timed out");

    /// <summary>Tags a connection activity with what its TLS handshake negotiated.</summary>
    internal static void TagTls(Activity? activity, Apps.Tls.Engine.TlsConnectionInfo info)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("tls.version", TlsNames.Version(info.Version));
        activity.SetTag("tls.cipher", info.CipherSuiteName);
        activity.SetTag("tls.alpn", info.ApplicationProtocol ?? "");
        activity.SetTag("tls.resumed", info.Resumed);
        if (info.ServerName is not null)
        {
            activity.SetTag("tls.server_name", info.ServerName);
        }
    }
}
