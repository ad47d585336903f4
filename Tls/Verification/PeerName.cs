// The reference identity of RFC 6125 §6.2: what the client meant to reach. A DNS name is turned into
// its A-label form (RFC 5890 §2.3.2.1) with IdnMapping and lower-cased; an IP literal stays an address
// and will only ever match an iPAddress subjectAltName (RFC 6125 §6.2.1, RFC 5280 §4.2.1.6).
using System.Globalization;
using System.Net;

namespace Apps.Tls.Verification;

/// <summary>A host name (in A-label form) or an IP address that a certificate must be valid for.</summary>
public sealed class PeerName
{
    private PeerName(string text, byte[]? address)
    {
        Text = text;
        Address = address;
    }

    /// <summary>The name as compared: lower-case A-labels, or the address in its canonical text form.</summary>
    public string Text { get; }

    /// <summary>The address bytes (4 or 16) when this is an IP literal; null for a DNS name.</summary>
    public byte[]? Address { get; }

    /// <summary>True when the name is an IP address literal.</summary>
    public bool IsAddress => Address is not null;

    /// <inheritdoc />
    public override string ToString() => Text;

    /// <summary>Reads a server name as typed by a person or sent in SNI; U-labels are converted to A-labels.</summary>
    /// <returns>False, with a one-line reason, when the text is neither a host name nor an IP literal.</returns>
    public static bool TryParse(string text, out PeerName? name, out string? error)
    {
        name = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the server name is empty";
            return false;
        }
        if (text.Length > 1024)
        {
            error = "the server name is longer than any host name can be";
            return false;
        }
        var trimmed = text.Trim();
        var unbracketed = trimmed.StartsWith('[') && trimmed.EndsWith(']') ? trimmed[1..^1] : trimmed;
        if (unbracketed.Contains(':'))
        {
            // IPv6 literal; zone identifiers (fe80::1%eth0) have no meaning in a certificate.
            if (!unbracketed.Contains('%') && IPAddress.TryParse(unbracketed, out var v6)
                && v6.GetAddressBytes().Length == 16)
            {
                name = new PeerName(v6.ToString(), v6.GetAddressBytes());
                return true;
            }
            error = $"'{text}' is not a valid IPv6 address";
            return false;
        }
        if (TryParseIPv4(unbracketed, out var v4))
        {
            name = new PeerName(new IPAddress(v4).ToString(), v4);
            return true;
        }
        var host = unbracketed.EndsWith('.') ? unbracketed[..^1] : unbracketed;
        try
        {
            if (host.Any(c => c > 0x7F))
                host = new IdnMapping { UseStd3AsciiRules = true }.GetAscii(host.ToLowerInvariant()); // UTS 46 §4 maps case first
        }
        catch (ArgumentException)
        {
            error = $"'{text}' is not a valid internationalised host name";
            return false;
        }
        host = host.ToLowerInvariant();
        if (!DnsNames.IsValid(host, allowWildcard: false))
        {
            error = $"'{text}' is not a valid host name";
            return false;
        }
        name = new PeerName(host, null);
        return true;
    }

    /// <summary>Strict dotted-quad: four decimal parts 0-255, no leading zeros, no shorthand forms.</summary>
    internal static bool TryParseIPv4(string text, out byte[] address)
    {
        address = new byte[4];
        var parts = text.Split('.');
        if (parts.Length != 4)
            return false;
        for (var i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0') || !part.All(char.IsAsciiDigit))
                return false;
            var value = int.Parse(part, CultureInfo.InvariantCulture);
            if (value > 255)
                return false;
            address[i] = (byte)value;
        }
        return true;
    }

    /// <summary>The canonical text of an address (dotted quad; RFC 5952 for IPv6); null for a wrong length.</summary>
    internal static string? AddressText(byte[] address) =>
        address.Length is 4 or 16 ? new IPAddress(address).ToString() : null;
}
