using System.CommandLine;
using System.Net;
using Apps.Conduit.Transports;
using Apps.Tls.Credentials;
using Apps.Tls.Entropy;
using Apps.Tls.Entropy.Storage;

namespace Apps.Http.Service;

/// <summary>The <c>https</c> appliance: static files or a status page over HTTPS, TLS by our own engine.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) =>
        BuildCommand().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

    internal static RootCommand BuildCommand()
    {
        var root = new Option<DirectoryInfo?>("--root") { Description = "Serve static files from DIR (the status page otherwise)" };
        var cert = new Option<FileInfo?>("--cert") { Description = "Certificate chain PEM (leaf first), read again on SIGHUP; a self-signed one is made otherwise (and renewed)" };
        var key = new Option<FileInfo?>("--key") { Description = "Private key PEM for --cert" };
        var keyPassword = new Option<FileInfo?>("--key-password-file") { Description = "File whose first line is the password of an encrypted --key (as nginx's ssl_password_file)" };
        var listen = new Option<string[]>("--listen") { Description = "ADDRESS:PORT to serve HTTPS on (repeatable; [::1]:8443 for IPv6)", Arity = ArgumentArity.ZeroOrMore };
        var httpPort = new Option<int?>("--http-port") { Description = "Also listen for plain HTTP on PORT and redirect it to HTTPS" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Data directory (certificate, entropy seed); default $APPS_DATA_DIR or $XDG_DATA_HOME/apps" };
        var trace = new Option<string?>("--trace") { Description = "Write the spans of all layers to FILE as Chrome trace-event JSON (Perfetto)" };
        var stack = new Option<string>("--stack") { Description = "host (the default), or tap:NAME,ip=ADDR/PREFIX[,gw=ADDR][,dns=ADDR] or tap:NAME,ip=dhcp for our own TCP/IP stack on a TAP device", DefaultValueFactory = _ => "host" };

        var engine = new Option<string>("--tls-engine")
        {
            Description = "ours (the default), or sslstream: Kestrel's own sockets and HTTPS, only as a benchmark anchor",
            DefaultValueFactory = _ => "ours",
        };
        engine.AcceptOnlyFromAmong("ours", "sslstream");

        var ioThreads = new Option<int>("--io-threads")
        {
            Description = $"Socket event threads that also run their connections' requests (default: half the cores, here {SocketEventThreads.Default}); 0 hands every completion to the thread pool. Not for --tls-engine sslstream",
            DefaultValueFactory = _ => SocketEventThreads.Default,
        };

        var command = new RootCommand("HTTPS appliance: Kestrel with the Apps TLS engine") { root, cert, key, keyPassword, listen, httpPort, dataDir, trace, stack, engine, ioThreads };
        command.SetAction(async (result, _) =>
        {
            var endPoints = new List<IPEndPoint>();
            foreach (var text in result.GetValue(listen) ?? [])
            {
                if (!ServiceSettings.TryParseListen(text, out var endPoint, out var error))
                {
                    await Console.Error.WriteLineAsync(error);
                    return 2;
                }

                endPoints.Add(endPoint);
            }

            if (endPoints.Count == 0)
            {
                endPoints.Add(ServiceSettings.DefaultListen);
            }

            if (!TransportSpec.TryParse(result.GetValue(stack), out var stackSpec, out var stackError))
            {
                await Console.Error.WriteLineAsync(stackError);
                return 2;
            }

            var rootDir = result.GetValue(root);
            if (rootDir is not null && !rootDir.Exists)
            {
                await Console.Error.WriteLineAsync($"--root {rootDir.FullName} does not exist; give a directory of files to serve");
                return 2;
            }

            var redirectPort = result.GetValue(httpPort);
            if (redirectPort is { } plainPort)
            {
                if (plainPort is < 1 or > 65535)
                {
                    await Console.Error.WriteLineAsync($"--http-port {plainPort} is not a port; give 1 to 65535, e.g. 8080");
                    return 2;
                }

                // The redirect listens on every --listen address, so a shared port would be bound twice.
                if (endPoints.Find(e => e.Port == plainPort) is { } clash)
                {
                    await Console.Error.WriteLineAsync($"--http-port {plainPort} is also the HTTPS port of --listen {clash}; give plain HTTP another port");
                    return 2;
                }
            }

            var threads = result.GetValue(ioThreads);
            if (threads is < 0 or > SocketEventThreads.Max)
            {
                await Console.Error.WriteLineAsync($"--io-threads {threads} is out of range; give 0 to {SocketEventThreads.Max}");
                return 2;
            }

            var passwordFile = result.GetValue(keyPassword);
            if (passwordFile is not null && result.GetValue(key) is null)
            {
                await Console.Error.WriteLineAsync("--key-password-file is the password of --key; give it with --cert and --key");
                return 2;
            }

            var settings = new ServiceSettings(endPoints, rootDir?.FullName, result.GetValue(cert)?.FullName, result.GetValue(key)?.FullName,
                passwordFile?.FullName, redirectPort, DataDirectory.Resolve(result.GetValue(dataDir)), result.GetValue(trace), stackSpec,
                KestrelTls: result.GetValue(engine) == "sslstream");
            if (settings.KestrelTls && !stackSpec.IsHost)
            {
                await Console.Error.WriteLineAsync("--tls-engine sslstream runs on Kestrel's own sockets; leave out --stack");
                return 2;
            }

            // Before any socket exists: the runtime reads these once, at its first socket. The anchor keeps .NET's and
            // Kestrel's defaults, its best (inline scheduling cut its 64 KiB responses to less than half).
            if (!settings.KestrelTls)
            {
                SocketEventThreads.Configure(threads);
            }

            // Before any logger exists: the console logger keeps the writer it finds.
            using var console = BufferedConsoleOutput.Install();
            try
            {
                return await ServiceHost.RunAsync(settings, Console.Out);
            }
            catch (Exception e) when (e is TlsCredentialException or ConduitException or ServiceStartException or EntropyNotSeededException)
            {
                // What the person starting the service can fix: said in one line, without a stack.
                await Console.Error.WriteLineAsync($"https: {e.Message}");
                return 1;
            }
            catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
            {
                await Console.Error.WriteLineAsync($"https: cannot listen ({e.Message}); pick another --listen port or stop what holds it");
                return 1;
            }
        });
        return command;
    }
}
