using Apps.Stack;
using Apps.Stack.Wire;

namespace Apps.Conduit.Transports;

/// <summary>
/// The <c>--stack</c> option: <c>host</c> (the host's sockets, the default) or
/// <c>tap:NAME,ip=ADDR/PREFIX[,gw=ADDR][,dns=ADDR]</c> / <c>tap:NAME,ip=dhcp[,dns=ADDR]</c> for our own TCP/IP stack on
/// a TAP device. <c>dns=</c> names the DNS server our stack asks (with DHCP, the lease's server otherwise).
/// </summary>
public sealed record TransportSpec(string? TapName, Ipv4Settings? Address, bool UseDhcp, Ipv4Address? DnsServer = null)
{
    /// <summary>The host's sockets.</summary>
    public static TransportSpec Host { get; } = new(null, null, false);

    /// <summary>True for the host's sockets.</summary>
    public bool IsHost => TapName is null;

    /// <summary>Parses the option's text, or says in one line how to write it.</summary>
    public static bool TryParse(string? text, out TransportSpec spec, out string error)
    {
        spec = Host;
        error = "";
        text = text?.Trim() ?? "";
        if (text.Length == 0 || text == "host")
        {
            return true;
        }

        const string usage = "write --stack host, or --stack tap:NAME,ip=ADDR/PREFIX[,gw=ADDR][,dns=ADDR], or --stack tap:NAME,ip=dhcp[,dns=ADDR]";
        if (!text.StartsWith("tap:", StringComparison.Ordinal) || text.Length > 200)
        {
            error = $"unknown stack '{text}'; {usage}";
            return false;
        }

        var parts = text[4..].Split(',');
        var name = parts[0];
        // Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/' or whitespace.
        if (name.Length is 0 or > 15 || name.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_' and not '.'))
        {
            error = $"'{name}' is not a TAP device name (1-15 letters, digits, - _ .); {usage}";
            return false;
        }

        string? ip = null;
        string? gateway = null;
        Ipv4Address? dns = null;
        foreach (var part in parts.Skip(1))
        {
            var equals = part.IndexOf('=');
            var key = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? "" : part[(equals + 1)..];
            switch (key)
            {
                case "ip": ip = value; break;
                case "gw": gateway = value; break;
                case "dns" when Ipv4Address.TryParse(value, out var server): dns = server; break;
                case "dns":
                    error = $"dns={value} is not an IPv4 address; {usage}";
                    return false;
                default:
                    error = $"unknown setting '{key}' in --stack; {usage}";
                    return false;
            }
        }

        if (ip is null)
        {
            error = $"--stack {text} has no ip=; {usage}";
            return false;
        }

        if (ip == "dhcp")
        {
            spec = new TransportSpec(name, null, true, dns);
            return true;
        }

        try
        {
            spec = new TransportSpec(name, Ipv4Settings.Parse(ip, string.IsNullOrEmpty(gateway) ? null : gateway), false, dns);
            return true;
        }
        catch (FormatException e)
        {
            error = $"{e.Message}; {usage}";
            return false;
        }
    }

    /// <summary>"host" or "tap:NAME".</summary>
    public override string ToString() => IsHost ? "host" : "tap:" + TapName;
}
