using System.Globalization;
using System.Net;

namespace Apps.TrustStore.Policy;

/// <summary>
/// A server as pins are keyed: a host name (lower-cased, no trailing dot) or IP literal, and a port.
/// Written <c>host:port</c>, with IPv6 literals in brackets (<c>[::1]:443</c>, RFC 3986 §3.2.2).
/// </summary>
public readonly record struct HostPort(string Host, int Port)
{
    /// <summary>The longest DNS name (RFC 1035 §2.3.4).</summary>
    public const int MaxHostLength = 253;

    /// <summary>The key the store indexes: the canonical text form.</summary>
    public override string ToString() =>
        Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>Builds a canonical host and checks the port; throws <see cref="FormatException"/> with a reason.</summary>
    public static HostPort Create(string host, int port)
    {
        if (port is < 1 or > 65535)
            throw new FormatException($"port {port} is out of range 1-65535");
        return new HostPort(NormalizeHost(host), port);
    }

    /// <summary>
    /// Parses <c>HOST</c>, <c>HOST:PORT</c>, <c>[IPv6]</c> or <c>[IPv6]:PORT</c>. The port is null
    /// when absent. Throws <see cref="FormatException"/> with a one-line reason.
    /// </summary>
    public static (string Host, int? Port) ParsePattern(string text)
    {
        text = text.Trim();
        string host;
        string? port = null;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0) throw new FormatException($"'{text}' has '[' without ']'");
            host = text[1..close];
            string rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (!rest.StartsWith(':')) throw new FormatException($"'{text}': expected ':PORT' after ']'");
                port = rest[1..];
            }
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':', StringComparison.Ordinal) == colon)
            {
                host = text[..colon];
                port = text[(colon + 1)..];
            }
            else host = text;
        }
        int? portNumber = null;
        if (port is not null)
        {
            if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p is < 1 or > 65535)
                throw new FormatException($"'{port}' is not a port number (1-65535)");
            portNumber = p;
        }
        return (NormalizeHost(host), portNumber);
    }

    /// <summary>Lower-cases a DNS name and drops a trailing dot; canonicalises IP literals.</summary>
    public static string NormalizeHost(string host)
    {
        host = host.Trim();
        if (host.EndsWith('.')) host = host[..^1];
        if (host.Length == 0) throw new FormatException("the host name is empty");
        if (host.Length > MaxHostLength) throw new FormatException($"the host name is longer than {MaxHostLength} characters");
        if (host.Contains(':', StringComparison.Ordinal))
        {
            if (!IPAddress.TryParse(host, out IPAddress? ip))
                throw new FormatException($"'{host}' is not an IPv6 address");
            return ip.ToString();
        }
        foreach (char c in host)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
                throw new FormatException($"'{host}' is not a host name: '{c}' is not allowed (use the ASCII form of international names)");
        }
        return host.ToLowerInvariant();
    }
}
