using System.Globalization;
using System.Net;

namespace Apps.Conduit.Endpoints;

/// <summary>How a connection to an endpoint is secured.</summary>
public enum EndpointScheme
{
    /// <summary><c>tcp://host:port</c>: a plain byte stream.</summary>
    Tcp,

    /// <summary><c>tls://host:port</c>: TLS from the first byte.</summary>
    Tls,

    /// <summary><c>xmpp://domain[:port]</c>: a plain stream to the XMPP client port (RFC 6120 §3.2.3, 5222); the
    /// application upgrades it with STARTTLS.</summary>
    Xmpp,
}

/// <summary>
/// Where to connect or listen: <c>tcp://host:port</c>, <c>tls://host:port</c> or <c>xmpp://domain</c>. Hosts are DNS
/// names or IP literals, IPv6 literals in brackets (RFC 3986 §3.2.2: <c>tcp://[::1]:80</c>).
/// </summary>
public sealed record ConduitEndpoint(EndpointScheme Scheme, string Host, int Port)
{
    /// <summary>RFC 6120 §3.2.3: the client port used when SRV records do not name one.</summary>
    public const int XmppClientPort = 5222;

    /// <summary>Longest endpoint text accepted (a 253-octet DNS name plus scheme and port).</summary>
    public const int MaxLength = 300;

    /// <summary>True for <c>xmpp://domain</c> without a port: SRV records (RFC 6120 §3.2.1, XEP-0368) choose the servers.</summary>
    public bool UseSrv { get; init; }

    /// <summary>The host as an IP address, when it is a literal.</summary>
    public IPAddress? Address => IPAddress.TryParse(Host, out var address) ? address : null;

    /// <summary>Parses endpoint text.</summary>
    /// <exception cref="FormatException">The text is not an endpoint; the message says how to write one.</exception>
    public static ConduitEndpoint Parse(string text) =>
        TryParse(text, out var endpoint, out var error) ? endpoint : throw new FormatException(error);

    /// <summary>Parses endpoint text, or says in one line what is wrong with it.</summary>
    public static bool TryParse(string? text, out ConduitEndpoint endpoint, out string error)
    {
        endpoint = null!;
        text = text?.Trim() ?? "";
        if (text.Length == 0 || text.Length > MaxLength)
        {
            error = "an endpoint is tcp://host:port, tls://host:port or xmpp://domain";
            return false;
        }

        var separator = text.IndexOf("://", StringComparison.Ordinal);
        if (separator < 0)
        {
            error = $"'{text}' has no scheme; write tcp://{text}, tls://{text} or xmpp://{text}";
            return false;
        }

        EndpointScheme scheme;
        switch (text[..separator].ToLowerInvariant())
        {
            case "tcp": scheme = EndpointScheme.Tcp; break;
            case "tls": scheme = EndpointScheme.Tls; break;
            case "xmpp": scheme = EndpointScheme.Xmpp; break;
            default:
                error = $"unknown scheme '{text[..separator]}' in '{text}'; use tcp, tls or xmpp";
                return false;
        }

        var rest = text[(separator + 3)..].TrimEnd('/');
        string host;
        string? portText = null;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            if (close < 0 || !IPAddress.TryParse(rest[1..close], out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                error = $"'{text}' has a bracketed host that is not an IPv6 address";
                return false;
            }

            host = v6.ToString();
            var after = rest[(close + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':')
                {
                    error = $"'{text}': expected :port after the IPv6 address";
                    return false;
                }

                portText = after[1..];
            }
        }
        else
        {
            var colon = rest.LastIndexOf(':');
            if (colon >= 0 && rest.IndexOf(':') != colon)
            {
                error = $"'{text}': put an IPv6 address in brackets, e.g. {text[..(separator + 3)]}[::1]:443";
                return false;
            }

            host = colon >= 0 ? rest[..colon] : rest;
            portText = colon >= 0 ? rest[(colon + 1)..] : null;
            if (!IsHostName(host))
            {
                error = $"'{host}' in '{text}' is not a host name or IP address";
                return false;
            }

            host = host.ToLowerInvariant().TrimEnd('.');
        }

        int port;
        if (portText is null)
        {
            if (scheme != EndpointScheme.Xmpp)
            {
                error = $"'{text}' needs a port, e.g. {text}:443";
                return false;
            }

            port = XmppClientPort;
        }
        else if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 0 or > 65535)
        {
            error = $"'{portText}' in '{text}' is not a port number (0-65535)";
            return false;
        }

        endpoint = new ConduitEndpoint(scheme, host, port) { UseSrv = scheme == EndpointScheme.Xmpp && portText is null && !IPAddress.TryParse(host, out _) };
        error = "";
        return true;
    }

    /// <summary>RFC 1123 §2.1 host names (letters, digits, hyphens; labels of 1-63), or an IPv4 literal.</summary>
    private static bool IsHostName(string host)
    {
        if (host.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in host.TrimEnd('.').Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>The endpoint as text; IPv6 hosts in brackets.</summary>
    public override string ToString()
    {
        var scheme = Scheme.ToString().ToLowerInvariant();
        var host = Host.Contains(':') ? "[" + Host + "]" : Host;
        return $"{scheme}://{host}:{Port.ToString(CultureInfo.InvariantCulture)}";
    }
}
