using System.CommandLine;
using System.Text.Json;
using Apps.TrustStore.Exchange;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.Tools.Trust.Commands;

/// <summary><c>trust show HOST[:PORT]</c>: the pins with certificate details, pending changes and history.</summary>
internal static class ShowCommand
{
    public static Command Create(CliContext context)
    {
        Argument<string> server = ServerArgument.Create("The server to show (every port when PORT is left out)");
        var command = new Command("show", "Show a server's pinned keys with certificate details, any rejected new key, and its history") { server };
        command.SetAction(parsed => TrustCli.Guard(context, parsed, run =>
        {
            (string host, int? port) = ServerArgument.Parse(parsed.GetValue(server)!);
            using PinStore store = run.OpenStore();
            IReadOnlyList<Pin> pins = store.PinsFor(host, port);
            IReadOnlyList<HistoryEvent> history = store.History(host, port);
            if (pins.Count == 0 && history.Count == 0)
                throw new TrustStoreException(TrustStoreError.NotFound, PinStoreMessages.NoPins(host, port));
            var servers = pins.Select(p => p.Server).Concat(history.Select(e => e.Server)).Distinct().OrderBy(s => s.Port).ToList();
            var pending = servers.Select(store.PendingChange).OfType<HistoryEvent>().ToList();
            if (run.Json)
            {
                run.WriteJson(w => WriteJson(w, store, host, pins, pending, history, run.Hex));
                return ExitCodes.Ok;
            }
            TextWriter o = run.Out;
            foreach (HostPort s in servers)
            {
                o.WriteLine($"{s}  policy {store.PolicyFor(pins.FirstOrDefault(p => p.Server == s)?.Service ?? "https", s.Host).Name()}");
                foreach (Pin p in pins.Where(p => p.Server == s))
                {
                    o.WriteLine($"  key {p.Spki.Format(run.Hex)}");
                    o.WriteLine($"    trusted by  {p.TrustedBy.Name()} ({p.Service}), first seen {CliRun.Minute(p.FirstSeen)}, last seen {CliRun.Minute(p.LastSeen)}, seen {p.TimesSeen} time(s)");
                    if (p.Certificate is { } c)
                    {
                        o.WriteLine($"    subject     {c.Subject}");
                        o.WriteLine($"    issuer      {c.Issuer}");
                        int days = (int)Math.Floor((c.NotAfter - run.Now).TotalDays);
                        string left = days < 0 ? "EXPIRED" : $"expires in {days} days";
                        o.WriteLine($"    valid       {CliRun.Day(c.NotBefore)} to {CliRun.Day(c.NotAfter)} ({left})");
                        o.WriteLine($"    names       {string.Join(", ", c.SubjectAltNames)}");
                    }
                    else o.WriteLine("    certificate not recorded (pinned by fingerprint)");
                    if (p.Note is not null) o.WriteLine($"    note        {p.Note}");
                }
                foreach (HistoryEvent e in pending.Where(e => e.Server == s))
                    o.WriteLine($"  REJECTED new key {e.Spki!.Value.Format(run.Hex)} offered {CliRun.Minute(e.At)}; to trust it run 'trust accept-change {s}'");
            }
            o.WriteLine("history:");
            foreach (HistoryEvent e in history)
                o.WriteLine($"  {CliRun.Minute(e.At)}  {e.Server}  {e.Kind}  {(e.Spki is { } fp ? fp.Format(run.Hex) : "-")}  {e.Detail}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void WriteJson(Utf8JsonWriter w, PinStore store, string host, IReadOnlyList<Pin> pins,
        IReadOnlyList<HistoryEvent> pending, IReadOnlyList<HistoryEvent> history, bool hex)
    {
        w.WriteStartObject();
        w.WriteString("host", HostPort.NormalizeHost(host));
        w.WriteStartArray("pins");
        foreach (Pin p in pins) PinJson.WritePin(w, p, includeChain: true, hex, store.PolicyFor(p.Service, p.Server.Host));
        w.WriteEndArray();
        w.WriteStartArray("pendingChanges");
        foreach (HistoryEvent e in pending) WriteEvent(w, e, hex);
        w.WriteEndArray();
        w.WriteStartArray("history");
        foreach (HistoryEvent e in history) WriteEvent(w, e, hex);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteEvent(Utf8JsonWriter w, HistoryEvent e, bool hex)
    {
        w.WriteStartObject();
        w.WriteString("at", e.At);
        w.WriteString("server", e.Server.ToString());
        w.WriteString("service", e.Service);
        w.WriteString("kind", e.Kind.ToString());
        if (e.Spki is { } fp) w.WriteString("fingerprint", fp.Format(hex)); else w.WriteNull("fingerprint");
        w.WriteString("detail", e.Detail);
        w.WriteEndObject();
    }
}

/// <summary>Messages shared by several commands.</summary>
internal static class PinStoreMessages
{
    public static string NoPins(string host, int? port) =>
        $"no pins or history for {(port is { } p ? HostPort.Create(host, p).ToString() : host)}; run 'trust list' to see the pinned servers";
}
