using System.CommandLine;
using Apps.TrustStore.Exchange;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.Tools.Trust.Commands;

/// <summary><c>trust policy [HOST|SERVICE [ca|tofu|pin|default]]</c>: show or set policies.</summary>
internal static class PolicyCommand
{
    public static Command Create(CliContext context)
    {
        var target = new Argument<string?>("HOST|SERVICE")
        {
            Description = "A host (every port) or a service (https, xmpp-client, xmpp-server; others with --service)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var value = new Argument<string?>("POLICY")
        {
            Description = "ca: CA-verified only; tofu: CA-verified or first use, then the pin must match; " +
                          "pin: pinned keys only; default: remove the setting",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var asService = new Option<bool>("--service") { Description = "Treat HOST|SERVICE as a service name" };
        var command = new Command("policy",
            $"Show or set how servers are trusted. A host's policy wins over its service's; the default is {PinStore.DefaultPolicy.Name()}. " +
            "Without arguments, lists the policies set.")
        {
            target, value, asService,
        };
        command.SetAction(parsed => TrustCli.Guard(context, parsed, run =>
        {
            string? name = parsed.GetValue(target);
            string? policyText = parsed.GetValue(value);
            using PinStore store = run.OpenStore();
            if (name is null)
            {
                IReadOnlyList<PolicySetting> all = store.Policies();
                if (run.Json)
                {
                    run.WriteJson(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("default", PinStore.DefaultPolicy.Name());
                        w.WriteStartArray("policies");
                        foreach (PolicySetting s in all) PinJson.WritePolicy(w, s);
                        w.WriteEndArray();
                        w.WriteEndObject();
                    });
                    return ExitCodes.Ok;
                }
                var table = new TextTable("SCOPE", "NAME", "POLICY");
                foreach (PolicySetting s in all) table.Add(s.Scope == PolicyScope.Host ? "host" : "service", s.Name, s.Policy.Name());
                table.Add("default", "*", PinStore.DefaultPolicy.Name());
                table.WriteTo(run.Out);
                return ExitCodes.Ok;
            }
            bool isService = parsed.GetValue(asService) || ServerArgument.IsKnownService(name);
            PolicyScope scope = isService ? PolicyScope.Service : PolicyScope.Host;
            if (!isService && name.Contains(':', StringComparison.Ordinal) && !name.StartsWith('['))
                throw new UsageException($"policies apply to a whole host, not a port: use '{ServerArgument.Parse(name).Host}'");
            name = isService ? PinStore.CheckService(name) : HostPort.NormalizeHost(name.Trim('[', ']'));
            string label = (isService ? "service " : "host ") + name;
            if (policyText is null)
            {
                TrustPolicy? set = store.GetPolicy(scope, name);
                if (run.Json)
                {
                    run.WriteJson(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("scope", isService ? "service" : "host");
                        w.WriteString("name", name);
                        if (set is { } p) w.WriteString("policy", p.Name()); else w.WriteNull("policy");
                        w.WriteString("default", PinStore.DefaultPolicy.Name());
                        w.WriteEndObject();
                    });
                }
                else if (set is { } p) run.Out.WriteLine($"{label}: {p.Name()}");
                else run.Out.WriteLine($"{label}: not set ({(isService ? "" : "the service's policy or ")}the default {PinStore.DefaultPolicy.Name()} applies)");
                return ExitCodes.Ok;
            }
            if (policyText == "default")
            {
                store.SetPolicy(scope, name, null);
                run.Out.WriteLine($"{label}: setting removed");
                return ExitCodes.Ok;
            }
            if (!TrustPolicyNames.TryParse(policyText, out TrustPolicy policy))
                throw new UsageException($"'{policyText}' is not a policy: use ca, tofu, pin or default");
            store.SetPolicy(scope, name, policy);
            run.Out.WriteLine($"{label}: {policy.Name()}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
