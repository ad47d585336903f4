using System.CommandLine;
using Apps.TrustStore.Certificates;
using Apps.TrustStore.Exchange;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.Tools.Trust.Commands;

/// <summary>
/// <c>trust accept-change HOST[:PORT]</c>: replace a server's pins by the key it offered last
/// and that was rejected. Shows old and new, and asks unless <c>--yes</c>.
/// </summary>
internal static class AcceptChangeCommand
{
    public static Command Create(CliContext context)
    {
        Argument<string> server = ServerArgument.Create("The server whose new key to accept (PORT needed if several ports have one)");
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation" };
        var command = new Command("accept-change",
            "Trust the new key a server offered (and that was rejected), replacing its old pins. Shows both keys and asks first.")
        {
            server, yes,
        };
        command.SetAction(parsed => TrustCli.Guard(context, parsed, run =>
        {
            (string host, int? port) = ServerArgument.Parse(parsed.GetValue(server)!);
            using PinStore store = run.OpenStore();
            IEnumerable<HostPort> servers = port is { } p
                ? [HostPort.Create(host, p)]
                : store.History(host, null).Select(e => e.Server).Distinct();
            var pending = servers.Select(store.PendingChange).OfType<HistoryEvent>().ToList();
            if (pending.Count == 0)
                throw new TrustStoreException(TrustStoreError.NotFound,
                    $"no rejected key is waiting for {parsed.GetValue(server)}; run 'trust show {host}' to see its keys and history");
            if (pending.Count > 1)
                throw new UsageException($"{host} has new keys on several ports ({string.Join(", ", pending.Select(e => e.Server.Port))}): give HOST:PORT");
            HistoryEvent offer = pending[0];
            CertificateInfo leaf = CertificateInfo.Parse(offer.Chain[0]);
            IReadOnlyList<Pin> old = store.PinsFor(offer.Server);
            TextWriter o = run.Json ? run.Context.Console.Error : run.Out;
            foreach (Pin pin in old)
                o.WriteLine($"pinned:  {pin.Spki.Format(run.Hex)}  ({pin.TrustedBy.Name()}, first seen {CliRun.Minute(pin.FirstSeen)})");
            if (old.Count == 0) o.WriteLine("pinned:  (none)");
            o.WriteLine($"offered: {leaf.Spki.Format(run.Hex)}  (at {CliRun.Minute(offer.At)} to {offer.Service})");
            o.WriteLine($"         subject {leaf.Subject}; issuer {leaf.Issuer}; valid {CliRun.Day(leaf.NotBefore)} to {CliRun.Day(leaf.NotAfter)}");
            if (!parsed.GetValue(yes))
            {
                o.Write($"Replace the pinned key(s) of {offer.Server} with {leaf.Spki.Format(run.Hex)}? [y/N] ");
                o.Flush();
                string? answer = run.Context.Console.In.ReadLine()?.Trim().ToLowerInvariant();
                if (answer is not ("y" or "yes"))
                    return run.Context.Fail($"not changed; the pins of {offer.Server} are as before", ExitCodes.Declined);
            }
            Pin accepted = store.AcceptChange(offer, run.Now);
            if (run.Json) run.WriteJson(w => PinJson.WritePin(w, accepted, includeChain: false, run.Hex));
            else run.Out.WriteLine($"{offer.Server} now trusts {accepted.Spki.Format(run.Hex)}");
            if (store.PolicyFor(offer.Service, offer.Server.Host) == TrustPolicy.Ca)
                context.Console.Error.WriteLine($"trust: note: the policy for {offer.Server.Host} is ca, which ignores pins; run 'trust policy {offer.Server.Host} tofu' to use this one");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
