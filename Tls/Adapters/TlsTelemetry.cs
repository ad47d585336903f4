using System.Diagnostics;
using System.Diagnostics.Metrics;
using Apps.Tls.Engine;

namespace Apps.Tls.Adapters;

/// <summary>
/// The TLS layer's <see cref="ActivitySource"/> and <see cref="Meter"/>, both named <c>Apps.Tls</c>
/// (ARCHITECTURE.md, Observability): one span per handshake, a handshake counter and duration histogram.
/// </summary>
internal static class TlsTelemetry
{
    public const string Name = "Apps.Tls";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    private static readonly Counter<long> Handshakes =
        Meter.CreateCounter<long>("apps.tls.handshakes", description: "TLS handshakes by role, result and version");

    private static readonly Histogram<double> HandshakeDuration =
        Meter.CreateHistogram<double>("apps.tls.handshake.duration", unit: "ms", description: "Time from first flight to Finished");

    public static Activity? StartHandshake(bool client) =>
        Source.StartActivity(client ? "tls.handshake.client" : "tls.handshake.server", ActivityKind.Internal);

    public static void Completed(Activity? activity, bool client, TlsConnectionInfo info, TimeSpan elapsed)
    {
        var version = info.Version == TlsVersion.Tls13 ? "1.3" : "1.2";
        Handshakes.Add(1, new("role", client ? "client" : "server"), new("result", "ok"), new("version", version));
        HandshakeDuration.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("role", client ? "client" : "server"));
        if (activity is not null)
        {
            activity.SetTag("tls.version", version);
            activity.SetTag("tls.cipher", info.CipherSuiteName);
            activity.SetTag("tls.alpn", info.ApplicationProtocol);
            activity.SetTag("tls.sni", info.ServerName);
            activity.SetTag("tls.resumed", info.Resumed);
            activity.Dispose();
        }
    }

    public static void Failed(Activity? activity, bool client, Exception error)
    {
        var fault = error is TlsException tls ? tls.Fault.ToString() : "Cancelled";
        Handshakes.Add(1, new("role", client ? "client" : "server"), new("result", "failed"), new("fault", fault));
        if (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
            activity.Dispose();
        }
    }
}
