using System.IO.Compression;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Apps.Conduit;
using Apps.Conduit.Kestrel;
using Apps.Conduit.Transports;
using Apps.Tls.Credentials;
using Microsoft.AspNetCore.Connections;
using Apps.Tls.Engine;
using Apps.Tls.Entropy;
using Apps.Tls.Entropy.Sources;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Apps.Http.Service;

/// <summary>Runs the service: entropy, certificate, Kestrel with our TLS engine, until SIGTERM or Ctrl+C.</summary>
internal static class ServiceHost
{
    public static async Task<int> RunAsync(ServiceSettings settings, TextWriter output)
    {
        using var trace = settings.TracePath is null ? null : OpenTrace(settings.TracePath);
        using var loggers = LoggerFactory.Create(b => b.AddProvider(new ConsoleLogProvider(output)));

        await using var entropy = await EntropyRuntime.StartAsync(new EntropyRuntimeOptions
        {
            DataDirectory = settings.DataDirectory,
            LoggerFactory = loggers,
        });
        var random = entropy.CreateSecureRandom();
        var identity = ServiceIdentity.Load(settings.CertificatePath, settings.KeyPath, settings.KeyPasswordPath, settings.DataDirectory, random,
            TimeProvider.System.GetUtcNow());

        var tally = new TlsTally();
        await using var transport = await OpenTransportAsync(settings.Stack, entropy, loggers);
        // A reload swaps the credential only: resumable sessions and ticket keys outlive it, as they do nginx's reload.
        var sessions = new TlsSessionCache();
        // RFC 5077 tickets: TLS 1.2 clients resume without the service keeping state per session.
        var ticketKeys = new SessionTicketKeys(random);
        TlsServerOptions ServerOptions(ServerCredential credential) => new()
        {
            Random = random,
            Credentials = new ServerCredentialSet(credential),
            // Kestrel serves HTTP/1.0 on its HTTP/1.x connection; `curl --http1.0` offers only "http/1.0".
            ApplicationProtocols = ["h2", "http/1.1", "http/1.0"],
            SessionCache = sessions,
            TicketKeys = ticketKeys,
        };
        var tls = new EngineTlsServerSettings
        {
            Options = ServerOptions(identity.Credential),
            Tally = tally,
            TransportName = transport.Name,
        };
        var serviceLog = loggers.CreateLogger("Apps.Http.Service");
        using var certificates = new CertificateReloader(identity, settings.KestrelTls ? null : tls, ServerOptions, TimeProvider.System, random, serviceLog);
        certificates.ReloadOnHangup();
        certificates.CheckExpiry();
        await using var memoryTrim = new IdleMemoryTrim(TimeProvider.System, serviceLog);
        var status = new ServiceStatus(TimeProvider.System.GetUtcNow(),
            settings.KestrelTls ? "Kestrel sockets with SslStream (benchmark anchor)" : "conduit over " + DescribeTransport(transport.Name), certificates, tally, entropy,
            memoryTrim, transport as StackTransport);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ConsoleLogProvider(output));
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // The host logs a failed start with the exception's stack before rethrowing it; the command says the same in one
        // line (a port in use, a bad key), and anything it does not know still ends the process with its stack.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        // Kestrel warns that HTTP/2 needs TLS (it cannot see TLS done by connection middleware, yet ALPN h2 works)
        // and logs peers that vanish without close_notify as warnings; both are noise for an appliance.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Error);
        // Hosting starts an Activity and a log scope for every request whenever this category is enabled at any level,
        // though it only logs requests at Information and Debug. --trace still gets the request spans (its
        // ActivityListener makes hosting start them); failed requests are still logged by Kestrel.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        builder.Services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = ResponseCompressionDefaults.MimeTypes.Concat(["image/svg+xml", "application/xml", "text/markdown"]);
        });
        builder.Services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        builder.Services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        builder.Services.AddSingleton<IConnectionListenerFactory>(new ConduitConnectionListenerFactory(transport));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var tlsLogger = kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Apps.Conduit");
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 64;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(60);
            kestrel.Limits.MaxConcurrentConnections = 10_000;
            foreach (var endPoint in settings.Listen)
            {
                if (settings.KestrelTls)
                {
                    // The anchor for benchmarks: the same app on Kestrel's socket transport with SslStream.
                    var certificate = identity.KeyPasswordPath is { } passwordPath
                        ? X509Certificate2.CreateFromEncryptedPemFile(identity.CertificatePath, ServiceIdentity.ReadPassword(passwordPath), identity.KeyPath)
                        : X509Certificate2.CreateFromPemFile(identity.CertificatePath, identity.KeyPath);
                    kestrel.Listen(endPoint, listen =>
                    {
                        listen.Protocols = HttpProtocols.Http1AndHttp2;
                        listen.UseHttps(certificate);
                    });
                    continue;
                }

                kestrel.Listen(new ConduitListenEndPoint(endPoint), listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseEngineTls(tls, tlsLogger);
                });
            }

            if (settings.HttpPort is { } httpPort)
            {
                foreach (var address in settings.Listen.Select(e => e.Address).Distinct())
                {
                    kestrel.Listen(new ConduitListenEndPoint(new IPEndPoint(address, httpPort)), listen => listen.Protocols = HttpProtocols.Http1);
                }
            }
        });

        await using var app = builder.Build();
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var serviceLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Apps.Http.Service");
        lifetime.ApplicationStopping.Register(() => ServiceLog.Stopping(serviceLogger));

        // The HTTPS port the redirect points to is only known after binding (the first --listen may be port 0).
        var httpsPort = settings.Listen[0].Port;
        RequestPipeline.Configure(app, settings, status, () => httpsPort, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Apps.Http.Service.Access"));

        await app.StartAsync();
        var bound = BoundHttpsEndPoints(app, settings);
        httpsPort = bound.Count > 0 ? bound[0].Port : httpsPort;
        foreach (var endPoint in bound)
        {
            output.WriteLine($"serving https://{endPoint}/");
        }

        if (settings.HttpPort is { } redirectPort)
        {
            output.WriteLine($"redirecting http port {redirectPort} to https");
        }

        output.WriteLine($"certificate key {identity.Fingerprint} (curl --pinnedpubkey sha256//{identity.PinBase64})");
        output.WriteLine($"certificate file {identity.Source}");
        output.Flush();

        await app.WaitForShutdownAsync();
        return 0;
    }

    private static ChromeTraceWriter OpenTrace(string path)
    {
        try
        {
            return new ChromeTraceWriter(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServiceStartException($"cannot write the trace to {path} ({e.Message.TrimEnd('.')}); give --trace a file in a writable directory", e);
        }
    }

    private static async Task<IConduitTransport> OpenTransportAsync(TransportSpec spec, EntropyRuntime entropy, ILoggerFactory loggers)
    {
        if (spec.IsHost)
        {
            return new HostSocketTransport();
        }

        // Our stack draws all its randomness from Fortuna and feeds packet timings back into its pools.
        var packets = entropy.Collector.CreateSink("network", EntropySourceIds.NetworkPackets);
        return await StackTransport.OpenAsync(spec, entropy.Fortuna.Fill, packets.AddEvent, loggers);
    }

    private static string DescribeTransport(string name) =>
        name == "host" ? "host sockets, " + SocketEventThreads.Describe() : "our TCP/IP stack on " + name;

    private static List<IPEndPoint> BoundHttpsEndPoints(WebApplication app, ServiceSettings settings)
    {
        var result = new List<IPEndPoint>();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || !IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip))
            {
                continue;
            }

            if (settings.HttpPort == uri.Port)
            {
                continue;
            }

            result.Add(new IPEndPoint(ip, uri.Port));
        }

        return result;
    }
}
