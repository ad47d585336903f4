// Read this first: RFC 6120 §3.2 (SRV lookup for _xmpp-client._tcp, fallback to the domain on 5222) and XEP-0368
// (_xmpps-client._tcp for direct TLS, both record sets mixed as one by priority and weight). Sans-IO: takes the two
// lookups' outcomes and randomness, returns the targets to try in order.
using Apps.Conduit.Endpoints;

namespace Apps.Conduit.Dns;

/// <summary>The outcome of one SRV lookup: its records (a target of "." included), or why it failed.</summary>
/// <param name="Records">The records; empty for NXDOMAIN or no answer.</param>
/// <param name="Error">Why the lookup gave nothing usable (timeout, malformed answer), or null.</param>
public sealed record SrvLookup(IReadOnlyList<SrvRecord> Records, string? Error = null)
{
    /// <summary>No records.</summary>
    public static SrvLookup Empty { get; } = new([]);

    /// <summary>A failed lookup, treated like no answer (RFC 6120 §3.2.2 allows the fallback then).</summary>
    public static SrvLookup Failed(string error) => new([], error);
}

/// <summary>Where to connect for <c>xmpp://domain</c>: targets in the order to try, or that the domain offers no client service.</summary>
/// <param name="Targets">The targets, best first; empty when <see cref="NotOffered"/>.</param>
/// <param name="NotOffered">True when the domain's SRV records say it offers no XMPP client service (target ".").</param>
public sealed record XmppTargets(IReadOnlyList<ConnectTarget> Targets, bool NotOffered)
{
    /// <summary>The SRV service for STARTTLS connections (RFC 6120 §3.2.1).</summary>
    public const string StartTlsService = "_xmpp-client._tcp.";

    /// <summary>The SRV service for direct TLS connections (XEP-0368).</summary>
    public const string DirectTlsService = "_xmpps-client._tcp.";

    /// <summary>The ALPN protocol name a direct TLS client offers (XEP-0368 §3).</summary>
    public const string AlpnProtocol = "xmpp-client";

    /// <summary>
    /// Decides the targets from the two lookups:
    /// <list type="bullet">
    /// <item>records with a real target from either set: all of them, mixed by priority and weight (XEP-0368 §3 rule 1,
    /// RFC 2782), each marked direct TLS or STARTTLS by the set it came from (rules 2 and 3); no fallback after them
    /// (RFC 6120 §3.2.1 step 8);</item>
    /// <item>only "." targets: the service is decidedly not offered (RFC 2782; RFC 6120 §3.2.1 step 3), and XEP-0368 §5 forbids the
    /// A/AAAA fallback: nothing to try;</item>
    /// <item>no records at all (NXDOMAIN, empty, or a failed lookup): the fallback, <paramref name="domain"/> on
    /// <paramref name="fallbackPort"/> with STARTTLS (RFC 6120 §3.2.2).</item>
    /// </list>
    /// </summary>
    /// <param name="domain">The XMPP domain.</param>
    /// <param name="fallbackPort">The port for the fallback (5222).</param>
    /// <param name="directTls">The <c>_xmpps-client._tcp</c> lookup.</param>
    /// <param name="startTls">The <c>_xmpp-client._tcp</c> lookup.</param>
    /// <param name="uniform">Returns a uniform integer in [0, n] inclusive (Fortuna in production).</param>
    public static XmppTargets Plan(string domain, int fallbackPort, SrvLookup directTls, SrvLookup startTls, Func<int, int> uniform)
    {
        var usable = new List<(SrvRecord Record, TargetSecurity Security)>();
        var declined = false;
        foreach (var (lookup, security) in new[] { (directTls, TargetSecurity.DirectTls), (startTls, TargetSecurity.StartTls) })
        {
            foreach (var record in lookup.Records)
            {
                if (record.Target == ".")
                {
                    declined = true;
                }
                else
                {
                    usable.Add((record, security));
                }
            }
        }

        if (usable.Count > 0)
        {
            var ordered = SrvOrder.Arrange(usable, r => r.Record.Priority, r => r.Record.Weight, uniform);
            return new XmppTargets(ordered.Select(r => new ConnectTarget(r.Record.Target, r.Record.Port, r.Security, FromSrv: true)).ToList(), false);
        }

        return declined
            ? new XmppTargets([], true)
            : new XmppTargets([new ConnectTarget(domain, fallbackPort, TargetSecurity.StartTls)], false);
    }
}
