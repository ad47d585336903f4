using System.CommandLine;
using Apps.TrustStore.Certificates;
using Apps.TrustStore.Exchange;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.Tools.Trust.Commands;

/// <summary><c>trust pin HOST[:PORT] --fingerprint FP | --cert FILE</c>: trust a key by hand.</summary>
internal static class PinCommand
{
    public static Command Create(CliContext context)
    {
        Argument<string> server = ServerArgument.Create("The server (PORT defaults to the service's well-known port)");
        var fingerprint = new Option<string?>("--fingerprint", "-f")
        {
            Description = "The key's SHA-256, as SHA256:<base64> (ssh style) or 32 hex bytes",
            HelpName = "SHA256:...",
        };
        var cert = new Option<string?>("--cert", "-c")
        {
            Description = "A PEM file with the server's certificate (leaf first); its key is pinned and the certificate kept",
            HelpName = "FILE.pem",
        };
        var service = new Option<string>("--service", "-s")
        {
            Description = "The service the pin is for (https, xmpp-client, ...)",
            DefaultValueFactory = _ => "https",
        };
        var note = new Option<string?>("--note") { Description = "A note to keep with the pin" };
        var command = new Command("pin",
            "Trust a key for a server by hand: for self-signed appliances (with 'trust policy HOST pin'), or a planned key rotation. " +
            "Check the fingerprint out of band first.")
        {
            server, fingerprint, cert, service, note,
        };
        command.SetAction(parsed => TrustCli.Guard(context, parsed, run =>
        {
            string svc = PinStore.CheckService(parsed.GetValue(service)!);
            (string host, int? port) = ServerArgument.Parse(parsed.GetValue(server)!);
            port ??= ServerArgument.DefaultPort(svc) ?? throw new UsageException($"service {svc} has no default port: give HOST:PORT");
            string? fpText = parsed.GetValue(fingerprint);
            string? certPath = parsed.GetValue(cert);
            if (fpText is null && certPath is null) throw new UsageException("give --fingerprint SHA256:... or --cert FILE.pem");

            IReadOnlyList<byte[]> chain = [];
            CertificateInfo? leaf = null;
            if (certPath is not null)
            {
                chain = ReadChain(certPath);
                leaf = CertificateInfo.Parse(chain[0]);
            }
            SpkiFingerprint spki;
            if (fpText is not null)
            {
                spki = SpkiFingerprint.Parse(fpText);
                if (leaf is not null && leaf.Spki != spki)
                    throw new FormatException($"the certificate in {certPath} has key {leaf.Spki}, not {spki}; check which one is right");
            }
            else spki = leaf!.Spki;

            DateTimeOffset now = run.Now;
            using PinStore store = run.OpenStore();
            Pin stored = store.AddPin(new Pin
            {
                Service = svc,
                Server = HostPort.Create(host, port.Value),
                Spki = spki,
                Chain = chain,
                Certificate = leaf,
                FirstSeen = now,
                LastSeen = now,
                TimesSeen = 0,
                TrustedBy = TrustedBy.ManualPin,
                Note = parsed.GetValue(note),
            });
            if (run.Json) run.WriteJson(w => PinJson.WritePin(w, stored, includeChain: false, run.Hex));
            else run.Out.WriteLine($"pinned {stored.Spki.Format(run.Hex)} for {stored.Server} ({stored.Service}); policy {store.PolicyFor(svc, host).Name()}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string ReadPem(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > PemCertificates.MaxPemLength)
                throw new CertificateFormatException($"{path} is larger than {PemCertificates.MaxPemLength} bytes");
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CertificateFormatException($"cannot read {path}: {e.Message}");
        }
        catch (CertificateFormatException e)
        {
            throw new CertificateFormatException($"{path}: {e.Message}");
        }
    }

    /// <summary>Reads and parses a PEM file, naming the file in any error.</summary>
    public static IReadOnlyList<byte[]> ReadChain(string path)
    {
        string text = ReadPem(path);
        try
        {
            return PemCertificates.Parse(text);
        }
        catch (CertificateFormatException e)
        {
            throw new CertificateFormatException($"{path} is not a usable PEM certificate file: {e.Message}");
        }
    }
}
