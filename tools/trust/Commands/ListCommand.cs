using System.CommandLine;
using Apps.TrustStore.Exchange;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.Tools.Trust.Commands;

/// <summary><c>trust list</c>: one line per pin.</summary>
internal static class ListCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("list", "List every pinned key: host, port, service, policy, fingerprint, first and last seen");
        command.SetAction(parsed => TrustCli.Guard(context, parsed, run =>
        {
            using PinStore store = run.OpenStore();
            IReadOnlyList<Pin> pins = store.AllPins();
            var table = new PolicyTable(store.Policies());
            var policies = pins.Select(p => table.For(p.Service, p.Server.Host)).ToList();
            if (run.Json)
            {
                run.WriteJson(w =>
                {
                    w.WriteStartObject();
                    w.WriteStartArray("pins");
                    for (int i = 0; i < pins.Count; i++) PinJson.WritePin(w, pins[i], includeChain: false, run.Hex, policies[i]);
                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                return ExitCodes.Ok;
            }
            if (pins.Count == 0)
            {
                run.Out.WriteLine($"no pins in {store.FilePath}");
                return ExitCodes.Ok;
            }
            var text = new TextTable("HOST", "PORT", "SERVICE", "POLICY", "FINGERPRINT", "FIRST SEEN", "LAST SEEN");
            for (int i = 0; i < pins.Count; i++)
            {
                Pin p = pins[i];
                text.Add(p.Server.Host, p.Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Service,
                    policies[i].Name(), p.Spki.Format(run.Hex), CliRun.Minute(p.FirstSeen), CliRun.Minute(p.LastSeen));
            }
            text.WriteTo(run.Out);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
