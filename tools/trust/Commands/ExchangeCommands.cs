using System.CommandLine;
using Apps.TrustStore.Exchange;
using Apps.TrustStore.Store;

namespace Apps.Tools.Trust.Commands;

/// <summary><c>trust export</c> and <c>trust import</c>: JSON (full backup) or known_hosts-like text.</summary>
internal static class ExchangeCommands
{
    private static Option<string> FormatOption(string description, string defaultValue)
    {
        var option = new Option<string>("--format")
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
        };
        option.AcceptOnlyFromAmong("json", "text", "auto");
        return option;
    }

    public static Command CreateExport(CliContext context)
    {
        Option<string> format = FormatOption("json: every pin with its certificates and the policies; text: one line per pin, as known_hosts", "json");
        var output = new Option<string?>("--output", "-o") { Description = "Write to FILE (replaced atomically) instead of stdout", HelpName = "FILE" };
        var command = new Command("export", "Write every pin and policy, for backup or for another machine") { format, output };
        command.SetAction(parsed => TrustCli.Guard(context, parsed, run =>
        {
            using PinStore store = run.OpenStore();
            PinExport export = store.Export();
            string text = parsed.GetValue(format) == "text" ? KnownHostsText.Write(export) : PinJson.Write(export) + "\n";
            string? path = parsed.GetValue(output);
            if (path is null)
            {
                run.Out.Write(text);
                return ExitCodes.Ok;
            }
            string temp = path + ".tmp-" + Environment.ProcessId;
            try
            {
                File.WriteAllText(temp, text);
                File.Move(temp, path, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                File.Delete(temp);
                throw new UsageException($"cannot write {path}: {e.Message}");
            }
            context.Console.Error.WriteLine($"exported {export.Pins.Count} pin(s) and {export.Policies.Count} policy setting(s) to {path}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command CreateImport(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "A file written by 'trust export' (JSON or text); - for stdin" };
        Option<string> format = FormatOption("json, text, or auto (JSON if the file starts with '{')", "auto");
        var command = new Command("import", "Add the pins and policies of an export file; keys already pinned are kept") { file, format };
        command.SetAction(parsed => TrustCli.Guard(context, parsed, run =>
        {
            string path = parsed.GetValue(file)!;
            string text;
            try
            {
                if (path != "-" && new FileInfo(path) is { Exists: true, Length: > PinExport.MaxFileBytes })
                    throw new ExportFormatException($"{path} is larger than {PinExport.MaxFileBytes} bytes");
                text = path == "-" ? context.Console.In.ReadToEnd() : File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ExportFormatException($"cannot read {path}: {e.Message}");
            }
            string kind = parsed.GetValue(format)!;
            if (kind == "auto") kind = text.TrimStart().StartsWith('{') ? "json" : "text";
            PinExport export;
            try
            {
                export = kind == "json" ? PinJson.Read(text, run.Now) : KnownHostsText.Read(text, run.Now);
            }
            catch (ExportFormatException e)
            {
                throw new ExportFormatException($"{path}: {e.Message}; nothing was imported", e);
            }
            using PinStore store = run.OpenStore();
            (int added, int existing) = store.Import(export, run.Now);
            if (run.Json)
                run.WriteJson(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("added", added);
                    w.WriteNumber("existing", existing);
                    w.WriteNumber("policies", export.Policies.Count);
                    w.WriteEndObject();
                });
            else
                run.Out.WriteLine($"imported {added} pin(s) ({existing} already present) and {export.Policies.Count} policy setting(s)");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
