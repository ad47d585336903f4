namespace Apps.Tools.Trust;

/// <summary>The <c>trust</c> command: see and manage the pinned server keys of every app.</summary>
public static class Program
{
    public static int Main(string[] args) =>
        TrustCli.Run(args, new CliConsole(Console.In, Console.Out, Console.Error), TimeProvider.System, Environment.GetEnvironmentVariable);
}

/// <summary>The streams a command reads and writes.</summary>
internal sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error);
