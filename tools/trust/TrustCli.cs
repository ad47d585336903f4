using System.CommandLine;
using Apps.Tools.Trust.Commands;
using Apps.TrustStore.Certificates;
using Apps.TrustStore.Exchange;
using Apps.TrustStore.Store;

namespace Apps.Tools.Trust;

/// <summary>Builds the command tree and turns failures into one line on stderr and an exit status.</summary>
internal static class TrustCli
{
    public static readonly Option<string?> DataDir = new("--data-dir")
    {
        Description = $"Directory of trust.db (default ${DataDirectory.OverrideVariable}, else $XDG_DATA_HOME/apps, else ~/.local/share/apps)",
        HelpName = "DIR",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print JSON for scripts instead of text",
        Recursive = true,
    };

    public static readonly Option<bool> Hex = new("--hex")
    {
        Description = "Show fingerprints as colon-separated hex instead of SHA256:base64",
        Recursive = true,
    };

    public static int Run(string[] args, CliConsole console, TimeProvider time, Func<string, string?> environment)
    {
        var root = new RootCommand(
            "See and manage the server keys that the apps trust (pins), as ssh users manage known_hosts.\n" +
            "Fingerprints are SHA-256 of the certificate's public key, shown as SHA256:<base64> (or colon-hex with --hex).\n" +
            ExitCodes.HelpText)
        {
            DataDir, Json, Hex,
        };
        var context = new CliContext(console, time, environment);
        root.Add(ListCommand.Create(context));
        root.Add(ShowCommand.Create(context));
        root.Add(PinCommand.Create(context));
        root.Add(ForgetCommand.Create(context));
        root.Add(AcceptChangeCommand.Create(context));
        root.Add(PolicyCommand.Create(context));
        root.Add(ExchangeCommands.CreateExport(context));
        root.Add(ExchangeCommands.CreateImport(context));

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) console.Error.WriteLine("trust: " + error.Message);
            console.Error.WriteLine("trust: run 'trust --help' (or 'trust COMMAND --help') for usage");
            return ExitCodes.Usage;
        }
        return parsed.Invoke(new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
        });
    }

    /// <summary>Runs a command body, mapping each kind of failure to its exit status.</summary>
    public static int Guard(CliContext context, ParseResult parsed, Func<CliRun, int> body)
    {
        try
        {
            return body(new CliRun(context, parsed));
        }
        catch (TrustStoreException e)
        {
            return context.Fail(e.Message, e.Error switch
            {
                TrustStoreError.NotFound => ExitCodes.NotFound,
                TrustStoreError.InvalidInput => ExitCodes.InvalidInput,
                _ => ExitCodes.Database,
            });
        }
        catch (UsageException e)
        {
            return context.Fail(e.Message + "; see 'trust --help'", ExitCodes.Usage);
        }
        catch (Exception e) when (e is FormatException or CertificateFormatException or ExportFormatException)
        {
            return context.Fail(e.Message, ExitCodes.InvalidInput);
        }
        catch (Exception e)
        {
            return context.Fail($"unexpected failure ({e.GetType().Name}: {e.Message}); please report it with the command you ran", ExitCodes.Internal);
        }
    }
}

/// <summary>The command line is inconsistent in a way the parser cannot see.</summary>
internal sealed class UsageException(string message) : Exception(message);
