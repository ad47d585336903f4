using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Apps.Conduit;
using Apps.Tls.Entropy.Sources;

namespace Apps.Http.Service;

/// <summary>What the status page shows; shared by the request pipeline.</summary>
internal sealed class ServiceStatus(DateTimeOffset started, string transport, CertificateReloader certificates, TlsTally tally, EntropyRuntime entropy,
    IdleMemoryTrim? memoryTrim = null, Apps.Conduit.Transports.StackTransport? stack = null)
{
    /// <summary>Gives memory back after load; its last trim is shown.</summary>
    public IdleMemoryTrim? MemoryTrim { get; } = memoryTrim;

    /// <summary>Our own stack, when it carries the connections.</summary>
    public Apps.Conduit.Transports.StackTransport? Stack { get; } = stack;

    public DateTimeOffset Started { get; } = started;

    public string Transport { get; } = transport;

    /// <summary>The certificate new handshakes get, and when it was last reloaded.</summary>
    public CertificateReloader Certificates { get; } = certificates;

    public TlsTally Tally { get; } = tally;

    public EntropyRuntime Entropy { get; } = entropy;
}

/// <summary>
/// The appliance's built-in page (served at <c>/</c> when there is no <c>--root</c>, and always at
/// <c>/status</c>): uptime, transport, TLS negotiated so far, the certificate's key fingerprint and the
/// entropy sources' health. Its only style is one inline block allowed by hash in the CSP.
/// </summary>
internal static class StatusPage
{
    public const string Style =
        "body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}" +
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}code{font-size:1.1em}";

    /// <summary>The CSP source that allows <see cref="Style"/> (CSP3 §8.3 hash-source).</summary>
    public static readonly string StyleHashSource =
        "'sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Style))) + "'";

    public static string Render(ServiceStatus status, DateTimeOffset now)
    {
        var html = HtmlEncoder.Default;
        var page = new StringBuilder(4096);
        var uptime = now - status.Started;
        page.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Apps HTTPS appliance</title><style>")
            .Append(Style).Append("</style></head><body><h1>Apps HTTPS appliance</h1><table id=\"summary\">");
        Row(page, "Uptime", FormatUptime(uptime), "uptime");
        Row(page, "Transport", html.Encode(status.Transport), "transport");
        if (status.Stack is { } stack)
        {
            var counters = stack.Stack.Counters;
            Row(page, "Our stack", html.Encode(string.Create(CultureInfo.InvariantCulture,
                $"address {stack.Stack.Address?.ToString() ?? "none yet"}; packets in {counters.PacketsIn}, out {counters.PacketsOut}, dropped {counters.TotalDrops}")), "stack");
        }

        var memory = string.Create(CultureInfo.InvariantCulture, $"{Environment.WorkingSet >> 20} MB resident, {GC.GetGCMemoryInfo().TotalCommittedBytes >> 20} MB held by the GC");
        if (status.MemoryTrim?.Last is { } trim)
        {
            memory += string.Create(CultureInfo.InvariantCulture,
                $"; last given back after load at {trim.At:yyyy-MM-dd HH:mm:ss} UTC ({trim.ResidentBefore >> 20} MB to {trim.ResidentAfter >> 20} MB)");
        }

        Row(page, "Memory", html.Encode(memory), "memory");
        var identity = status.Certificates.Current;
        Row(page, "Certificate key", "<code>" + html.Encode(identity.Fingerprint.ToString()) + "</code>", "fingerprint");
        var certificate = string.Create(CultureInfo.InvariantCulture, $"{identity.Source}; valid until {identity.NotAfter:yyyy-MM-dd HH:mm} UTC");
        if (status.Certificates.ReloadedAt is { } reloaded)
        {
            certificate += string.Create(CultureInfo.InvariantCulture, $"; reloaded at {reloaded:yyyy-MM-dd HH:mm:ss} UTC");
        }

        Row(page, "Certificate file", html.Encode(certificate), "certificate");
        Row(page, "Failed handshakes", status.Tally.Failures.ToString(CultureInfo.InvariantCulture), "handshake-failures");
        page.Append("</table><h2>TLS negotiated</h2><table id=\"tls\"><tr><th>Version</th><th>Cipher suite</th><th>ALPN</th><th>Handshakes</th></tr>");
        foreach (var entry in status.Tally.Snapshot())
        {
            page.Append("<tr><td>").Append(html.Encode(entry.Version)).Append("</td><td>").Append(html.Encode(entry.CipherSuite))
                .Append("</td><td>").Append(html.Encode(entry.ApplicationProtocol)).Append("</td><td>")
                .Append(entry.Count.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>");
        }

        page.Append("</table><h2>Entropy sources</h2><table id=\"entropy\"><tr><th>Source</th><th>State</th><th>Events</th><th>Bytes</th><th>Failures</th><th>Last problem</th></tr>");
        foreach (var source in status.Entropy.Collector.Health)
        {
            page.Append("<tr><td>").Append(html.Encode(source.Name)).Append("</td><td>").Append(source.State)
                .Append("</td><td>").Append(source.Events.ToString(CultureInfo.InvariantCulture))
                .Append("</td><td>").Append(source.Bytes.ToString(CultureInfo.InvariantCulture))
                .Append("</td><td>").Append(source.Failures.ToString(CultureInfo.InvariantCulture))
                .Append("</td><td>").Append(html.Encode(source.LastProblem ?? "")).Append("</td></tr>");
        }

        page.Append("</table><p>Fortuna seeded: ").Append(status.Entropy.Fortuna.IsSeeded ? "yes" : "no")
            .Append("; platform: ").Append(html.Encode(status.Entropy.Platform.IsVirtualized ? "virtualized (" + (status.Entropy.Platform.Hypervisor ?? "unknown") + ")" : "bare metal or container")).Append("</p></body></html>");
        return page.ToString();
    }

    private static void Row(StringBuilder page, string name, string valueHtml, string id) =>
        page.Append("<tr><th>").Append(name).Append("</th><td id=\"").Append(id).Append("\">").Append(valueHtml).Append("</td></tr>");

    private static string FormatUptime(TimeSpan uptime) =>
        uptime.TotalDays >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)uptime.TotalDays}d {uptime.Hours}h {uptime.Minutes}m")
            : string.Create(CultureInfo.InvariantCulture, $"{uptime.Hours}h {uptime.Minutes}m {uptime.Seconds}s");
}
