using Apps.Stack.Wire;

namespace Apps.Stack;

/// <summary>
/// The address configuration of an interface: address, prefix length and optional default gateway
/// (RFC 1122 §3.3.1: on-link destinations go direct, everything else to the gateway).
/// </summary>
/// <param name="Address">Our unicast address.</param>
/// <param name="PrefixLength">Subnet prefix length, 0..32 (24 for 255.255.255.0).</param>
/// <param name="Gateway">Default gateway, on-link; null for a link-only configuration.</param>
public sealed record Ipv4Settings(Ipv4Address Address, int PrefixLength, Ipv4Address? Gateway = null)
{
    /// <summary>The subnet mask.</summary>
    public Ipv4Address Mask => Ipv4Address.MaskFromPrefix(PrefixLength);

    /// <summary>The subnet-directed broadcast address (all host bits set).</summary>
    public Ipv4Address SubnetBroadcast => new(Address.Value | ~Mask.Value);

    /// <summary>True when <paramref name="destination"/> is on our subnet.</summary>
    public bool IsOnLink(Ipv4Address destination) => Address.IsInSameSubnet(destination, Mask);

    /// <summary>Parses "10.0.0.2/24" with an optional gateway.</summary>
    public static Ipv4Settings Parse(string cidr, string? gateway = null)
    {
        int slash = cidr.IndexOf('/');
        if (slash < 0 || !int.TryParse(cidr.AsSpan(slash + 1), out int prefix) || prefix is < 0 or > 32)
            throw new FormatException($"'{cidr}' is not an address with prefix such as 10.0.0.2/24");
        return new Ipv4Settings(Ipv4Address.Parse(cidr[..slash]), prefix, gateway is null ? null : Ipv4Address.Parse(gateway));
    }

    /// <inheritdoc/>
    public override string ToString() => Gateway is { } g ? $"{Address}/{PrefixLength} via {g}" : $"{Address}/{PrefixLength}";
}
