using System.Text;
using Apps.TrustStore.Certificates;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.TrustStore.Exchange;

/// <summary>
/// A text form in the spirit of OpenSSH's known_hosts: one pin per line, readable and diffable.
/// <code>
/// # comment
/// HOST:PORT SERVICE SHA256:BASE64 [TRUSTED-BY] [# note]
/// @policy host|service NAME ca|tofu|pin
/// </code>
/// IPv6 hosts are written in brackets (<c>[::1]:443</c>). Certificates are not carried; use
/// the JSON form for a full backup.
/// </summary>
public static class KnownHostsText
{
    /// <summary>The longest line read.</summary>
    public const int MaxLineLength = 4096;

    /// <summary>Writes pins and policies as text.</summary>
    public static string Write(PinExport export)
    {
        var sb = new StringBuilder();
        sb.Append("# trust pins: HOST:PORT SERVICE FINGERPRINT TRUSTED-BY [# note]\n");
        foreach (PolicySetting p in export.Policies)
            sb.Append("@policy ").Append(p.Scope == PolicyScope.Host ? "host " : "service ").Append(p.Name).Append(' ').Append(p.Policy.Name()).Append('\n');
        foreach (Pin pin in export.Pins)
        {
            sb.Append(pin.Server).Append(' ').Append(pin.Service).Append(' ').Append(pin.Spki).Append(' ').Append(pin.TrustedBy.Name());
            if (pin.Note is { Length: > 0 } note) sb.Append(" # ").Append(note.ReplaceLineEndings(" "));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Reads text written by <see cref="Write"/> (or by hand); <paramref name="now"/> stamps the pins.</summary>
    /// <exception cref="ExportFormatException">A line is malformed; the message names it.</exception>
    public static PinExport Read(string text, DateTimeOffset now)
    {
        if (text.Length > PinExport.MaxFileBytes)
            throw new ExportFormatException($"the file is larger than {PinExport.MaxFileBytes} bytes");
        var pins = new List<Pin>();
        var policies = new List<PolicySetting>();
        int lineNumber = 0;
        foreach (string raw in text.Split('\n'))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.Length > MaxLineLength)
                throw new ExportFormatException($"line {lineNumber} is longer than {MaxLineLength} characters");
            if (pins.Count + policies.Count >= PinExport.MaxEntries)
                throw new ExportFormatException($"more than {PinExport.MaxEntries} entries");
            try
            {
                if (line.StartsWith("@policy ", StringComparison.Ordinal)) policies.Add(ReadPolicy(line));
                else pins.Add(ReadPin(line, now));
            }
            catch (Exception e) when (e is FormatException or TrustStoreException)
            {
                throw new ExportFormatException($"line {lineNumber}: {e.Message}", e);
            }
        }
        return new PinExport(pins, policies);
    }

    private static PolicySetting ReadPolicy(string line)
    {
        string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length != 4) throw new FormatException("expected '@policy host|service NAME ca|tofu|pin'");
        if (!TrustPolicyNames.TryParse(f[3], out TrustPolicy policy)) throw new FormatException($"'{f[3]}' is not a policy (ca, tofu or pin)");
        return f[1] switch
        {
            "host" => new PolicySetting(PolicyScope.Host, HostPort.NormalizeHost(f[2]), policy),
            "service" => new PolicySetting(PolicyScope.Service, PinStore.CheckService(f[2]), policy),
            _ => throw new FormatException($"'{f[1]}' is not a policy scope (host or service)"),
        };
    }

    private static Pin ReadPin(string line, DateTimeOffset now)
    {
        string? note = null;
        int hash = line.IndexOf(" #", StringComparison.Ordinal);
        if (hash >= 0)
        {
            note = line[(hash + 2)..].Trim();
            line = line[..hash];
        }
        string[] f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (f.Length is < 3 or > 4) throw new FormatException("expected 'HOST:PORT SERVICE SHA256:FINGERPRINT [TRUSTED-BY]'");
        (string host, int? port) = HostPort.ParsePattern(f[0]);
        if (port is null) throw new FormatException($"'{f[0]}' has no port");
        if (!SpkiFingerprint.TryParse(f[2], out SpkiFingerprint spki, out string error)) throw new FormatException(error);
        TrustedBy by = TrustedBy.Imported;
        if (f.Length == 4 && !TrustPolicyNames.TryParse(f[3], out by))
            throw new FormatException($"'{f[3]}' is not a trust origin (first-use, ca-verified, manual-pin, accepted-change, imported)");
        return new Pin
        {
            Service = PinStore.CheckService(f[1]),
            Server = new HostPort(host, port.Value),
            Spki = spki,
            FirstSeen = now,
            LastSeen = now,
            TrustedBy = by,
            Note = string.IsNullOrEmpty(note) ? null : note,
        };
    }
}
