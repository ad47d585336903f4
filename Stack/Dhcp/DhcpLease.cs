using System.Numerics;
using Apps.Stack.Wire;

namespace Apps.Stack.Dhcp;

/// <summary>An address lease granted by a DHCP server (RFC 2131 §3.1 step 5).</summary>
/// <param name="Address">The leased address (yiaddr).</param>
/// <param name="PrefixLength">From the subnet mask option (1); 24 when the server sent none.</param>
/// <param name="Router">Default gateway (option 3), if any.</param>
/// <param name="Server">The server identifier (option 54); renewals are unicast here.</param>
/// <param name="LeaseTime">Lease duration (option 51).</param>
/// <param name="RenewalTime">T1 (option 58, default half the lease, RFC 2131 §4.4.5).</param>
/// <param name="RebindingTime">T2 (option 59, default 0.875 of the lease).</param>
/// <param name="DnsServers">Option 6.</param>
public sealed record DhcpLease(
    Ipv4Address Address,
    int PrefixLength,
    Ipv4Address? Router,
    Ipv4Address Server,
    TimeSpan LeaseTime,
    TimeSpan RenewalTime,
    TimeSpan RebindingTime,
    IReadOnlyList<Ipv4Address> DnsServers)
{
    /// <summary>The interface configuration this lease gives.</summary>
    public Ipv4Settings ToSettings() => new(Address, PrefixLength, Router);

    internal static DhcpLease? FromAck(DhcpMessage ack, Ipv4Address server)
    {
        if (ack.YourAddress.IsAny || ack.YourAddress.IsBroadcast || ack.YourAddress.IsMulticast)
            return null;
        // A lease time of 0xffffffff means infinite (RFC 2132 §9.2); cap it at ~136 years.
        var lease = TimeSpan.FromSeconds(ack.LeaseSeconds ?? 3600);
        var t1 = ack.RenewalSeconds is { } r ? TimeSpan.FromSeconds(r) : lease / 2;
        var t2 = ack.RebindingSeconds is { } b ? TimeSpan.FromSeconds(b) : lease * 7 / 8;
        if (t2 > lease)
            t2 = lease * 7 / 8;
        if (t1 > t2)
            t1 = t2 / 2 + t2 / 4;
        int prefix = 24;
        if (ack.SubnetMask is { } mask)
        {
            prefix = BitOperations.LeadingZeroCount(~mask.Value);
            if (Ipv4Address.MaskFromPrefix(prefix) != mask || prefix == 0)
                return null; // a non-contiguous mask is malformed
        }
        var router = ack.Router is { } g && new Ipv4Settings(ack.YourAddress, prefix).IsOnLink(g) ? g : (Ipv4Address?)null;
        return new DhcpLease(ack.YourAddress, prefix, router, server, lease, t1, t2, ack.DnsServers);
    }
}
