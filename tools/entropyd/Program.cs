using System.CommandLine;
using Apps.Tls.Entropy.HostProtocol;
using Apps.Tls.Entropy.Sources;
using Microsoft.Extensions.Logging;

namespace Apps.Tools.Entropyd;

/// <summary>
/// <c>entropyd</c>: the host entropy daemon that serves the host's randomness to guests, plus
/// the commands to look at this machine's entropy (<c>status</c>), ask a daemon by hand
/// (<c>fetch</c>) and provision seed files (<c>seed</c>).
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args) => BuildCommand().Parse(args).InvokeAsync();

    internal static RootCommand BuildCommand()
    {
        var root = new RootCommand(
            "entropyd: serves the host's randomness to guests (VMs, containers) over a framed protocol on a Unix socket or AF_VSOCK,\n" +
            "and shows the state of this machine's Fortuna generator and entropy sources.\n\n" +
            "Wire format (version 1): frame = version:u8 (1) | type:u8 | length:u16 BE | body.\n" +
            "  request 0x01: body = N:u16 BE (1..max-request); reply data 0x02: body = N bytes;\n" +
            "  reply error 0x03: body = code:u8 | retry-after-ms:u32 BE | UTF-8 text.\n" +
            "  codes: 1 malformed (connection closed), 2 too large, 3 rate limited, 4 unavailable, 5 unsupported version (closed).");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(FetchCommand.Create());
        root.Subcommands.Add(SeedCommand.Create());
        return root;
    }

    internal static ILoggerFactory CreateLoggerFactory(bool verbose) =>
        LoggerFactory.Create(builder => builder
            .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            }));

    internal static Option<bool> VerboseOption() => new("--verbose", "-v") { Description = "Log each connection and source poll." };
}

internal static class ServeCommand
{
    public static Command Create()
    {
        var unix = new Option<string?>("--unix") { Description = "Listen on this Unix socket path (created mode 0660; a stale socket file is replaced)." };
        var vsock = new Option<uint?>("--vsock") { Description = "Also listen on this AF_VSOCK port, for guests of this hypervisor host (needs vhost_vsock)." };
        var maxRequest = new Option<int>("--max-request") { Description = "Largest request in bytes (1..16384).", DefaultValueFactory = _ => 4096 };
        var rate = new Option<int>("--rate") { Description = "Bytes per second served to each connection.", DefaultValueFactory = _ => 64 * 1024 };
        var burst = new Option<int>("--burst") { Description = "Bytes a connection may take at once after being idle.", DefaultValueFactory = _ => 256 * 1024 };
        var maxConnections = new Option<int>("--max-connections") { Description = "Connections served at once; more are refused with an error frame.", DefaultValueFactory = _ => 256 };
        var frameTimeout = new Option<double>("--frame-timeout") { Description = "Seconds a guest has to finish a frame it started, or to read a reply.", DefaultValueFactory = _ => 5 };
        var verbose = Program.VerboseOption();
        var command = new Command("serve", "Serve the host OS's randomness to guests until SIGINT/SIGTERM.")
        {
            unix, vsock, maxRequest, rate, burst, maxConnections, frameTimeout, verbose,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            using ILoggerFactory logs = Program.CreateLoggerFactory(result.GetValue(verbose));
            ILogger logger = logs.CreateLogger("entropyd");
            var options = new DaemonOptions
            {
                UnixSocket = result.GetValue(unix),
                VsockPort = result.GetValue(vsock),
                Limits = new HostEntropyLimits(result.GetValue(maxRequest), result.GetValue(rate), result.GetValue(burst)),
                MaxConnections = result.GetValue(maxConnections),
                FrameTimeout = TimeSpan.FromSeconds(result.GetValue(frameTimeout)),
            };
            try
            {
                await using var daemon = new EntropyDaemon(options, logger);
                daemon.Start();
                if (options.UnixSocket is { } path && !OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
                }
                Console.Out.WriteLine($"entropyd: serving{(options.UnixSocket is null ? "" : $" unix:{options.UnixSocket}")}{(options.VsockPort is null ? "" : $" vsock:any:{options.VsockPort}")}");
                Console.Out.Flush();
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                }
                Console.Out.WriteLine($"entropyd: stopping after serving {daemon.BytesServed} bytes");
                return 0;
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or System.Net.Sockets.SocketException)
            {
                Console.Error.WriteLine($"entropyd: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}

internal static class FetchCommand
{
    public static Command Create()
    {
        var address = new Argument<string>("address") { Description = "The daemon: unix:PATH, vsock:CID:PORT or serial:DEVICE." };
        var bytes = new Option<int>("--bytes", "-n") { Description = "How many bytes to ask for (1..16384).", DefaultValueFactory = _ => 32 };
        var command = new Command("fetch", "Ask a host entropy daemon for bytes, as a guest does, and print them in hex.") { address, bytes };
        command.SetAction(async (result, cancellationToken) =>
        {
            HostEntropyAddress parsed;
            try
            {
                parsed = HostEntropyAddress.Parse(result.GetValue(address)!);
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"entropyd: {e.Message}");
                return 2;
            }
            int n = result.GetValue(bytes);
            if (n is < 1 or > HostEntropyFrame.MaxBodyLength)
            {
                Console.Error.WriteLine($"entropyd: --bytes must be 1 to {HostEntropyFrame.MaxBodyLength}");
                return 2;
            }
            await using var source = new HostDaemonSource(parsed);
            var buffer = new byte[n];
            try
            {
                int got = await source.RequestAsync(buffer, cancellationToken);
                if (got == 0)
                {
                    Console.Error.WriteLine("entropyd: the daemon is rate-limiting this connection; try again shortly");
                    return 1;
                }
                Console.Out.WriteLine(Convert.ToHexStringLower(buffer));
                return 0;
            }
            catch (EntropySourceException e)
            {
                Console.Error.WriteLine($"entropyd: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
