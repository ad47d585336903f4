using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Apps.TrustStore.Store;

namespace Apps.Tools.Trust;

/// <summary>What every command shares: the console, the clock and the environment.</summary>
internal sealed class CliContext(CliConsole console, TimeProvider time, Func<string, string?> environment)
{
    public CliConsole Console { get; } = console;
    public TimeProvider Time { get; } = time;
    public Func<string, string?> Environment { get; } = environment;

    public int Fail(string message, int exitCode)
    {
        Console.Error.WriteLine("trust: " + message);
        return exitCode;
    }
}

/// <summary>One invocation: the context plus the parsed global options.</summary>
internal sealed class CliRun(CliContext context, ParseResult parsed)
{
    public CliContext Context { get; } = context;
    public ParseResult Parsed { get; } = parsed;
    public bool Json => Parsed.GetValue(TrustCli.Json);
    public bool Hex => Parsed.GetValue(TrustCli.Hex);
    public TextWriter Out => Context.Console.Out;
    public DateTimeOffset Now => Context.Time.GetUtcNow();

    public string DatabasePath => DataDirectory.DatabasePath(Parsed.GetValue(TrustCli.DataDir), Context.Environment);

    public PinStore OpenStore() => PinStore.Open(DatabasePath);

    /// <summary>Writes a JSON document built by <paramref name="write"/> to stdout.</summary>
    public void WriteJson(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            write(w);
        Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    public static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Minute(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + "Z";
}
