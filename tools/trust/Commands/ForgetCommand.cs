using System.CommandLine;
using Apps.TrustStore.Store;

namespace Apps.Tools.Trust.Commands;

/// <summary><c>trust forget HOST[:PORT]</c>: drop a server's pins so the next connection is a first use again.</summary>
internal static class ForgetCommand
{
    public static Command Create(CliContext context)
    {
        Argument<string> server = ServerArgument.Create("The server to forget (every port when PORT is left out)");
        var command = new Command("forget", "Remove a server's pinned keys; its history is kept. The next connection is a first use again.") { server };
        command.SetAction(parsed => TrustCli.Guard(context, parsed, run =>
        {
            (string host, int? port) = ServerArgument.Parse(parsed.GetValue(server)!);
            using PinStore store = run.OpenStore();
            int n = store.Forget(host, port, run.Now);
            if (run.Json) run.WriteJson(w => { w.WriteStartObject(); w.WriteNumber("forgotten", n); w.WriteEndObject(); });
            else run.Out.WriteLine($"forgot {n} pin(s) for {parsed.GetValue(server)}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
