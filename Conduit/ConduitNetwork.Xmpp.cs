// Read this first: RFC 6120 §3.2 and XEP-0368. xmpp://domain looks up _xmpps-client._tcp (direct TLS) and
// _xmpp-client._tcp (STARTTLS) at once, XmppTargets mixes them, and the targets are tried in turn.
using System.Diagnostics;
using Apps.Conduit.Dns;
using Apps.Conduit.Endpoints;
using Apps.Conduit.Transports;
using Apps.Conduit.Trust;

namespace Apps.Conduit;

public sealed partial class ConduitNetwork
{
    /// <summary>
    /// The targets for an <c>xmpp://</c> endpoint, in the order <see cref="ConnectAsync"/> tries them: from SRV when
    /// the endpoint names a domain without a port and a resolver is configured, else the endpoint itself with STARTTLS.
    /// </summary>
    /// <exception cref="ArgumentException">The endpoint is not <c>xmpp://</c>.</exception>
    public async Task<XmppTargets> ResolveXmppAsync(ConduitEndpoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint.Scheme != EndpointScheme.Xmpp)
        {
            throw new ArgumentException($"{endpoint} is not an xmpp:// endpoint", nameof(endpoint));
        }

        if (!endpoint.UseSrv || options.Resolver is not { } resolver)
        {
            return new XmppTargets([new ConnectTarget(endpoint.Host, endpoint.Port, TargetSecurity.StartTls)], false);
        }

        var directTls = LookupAsync(resolver, XmppTargets.DirectTlsService + endpoint.Host, cancellationToken);
        var startTls = LookupAsync(resolver, XmppTargets.StartTlsService + endpoint.Host, cancellationToken);
        SrvLookup[] lookups = [await directTls.ConfigureAwait(false), await startTls.ConfigureAwait(false)];
        foreach (var failed in lookups.Where(l => l.Error is not null))
        {
            // Recorded on the caller's span (conduit.connect): a failed lookup silently turns into the fallback otherwise.
            Activity.Current?.AddEvent(new ActivityEvent("conduit.srv_failed", tags: new ActivityTagsCollection { ["error"] = failed.Error }));
        }

        return XmppTargets.Plan(endpoint.Host, endpoint.Port, lookups[0], lookups[1], resolver.Uniform);
    }

    private static async Task<SrvLookup> LookupAsync(DnsResolver resolver, string name, CancellationToken cancellationToken)
    {
        try
        {
            return new SrvLookup(await resolver.QuerySrvAsync(name, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is DnsFormatException or TimeoutException or IOException or System.Net.Sockets.SocketException)
        {
            return SrvLookup.Failed($"{name}: {e.Message}");
        }
    }

    /// <summary>RFC 6120 §3.2.1 steps 4-8: try each target in turn (and no fallback after them); the first that connects (and, for direct TLS, whose
    /// handshake succeeds) wins. A refused certificate ends the attempt at once: it is never a reason to go elsewhere.</summary>
    private async Task<ConduitConnection> ConnectXmppAsync(ConduitEndpoint endpoint, IReadOnlyList<string>? alpn, Activity? activity, CancellationToken cancellationToken)
    {
        var plan = await ResolveXmppAsync(endpoint, cancellationToken).ConfigureAwait(false);
        if (plan.NotOffered)
        {
            throw new ConduitException($"{endpoint.Host} says in DNS that it offers no XMPP client service (SRV target \".\"); check the domain of your address");
        }

        var failures = new List<string>();
        foreach (var target in plan.Targets)
        {
            try
            {
                // XEP-0368 §3: SNI and certificate checks use the domain, not the SRV target; the pin is kept
                // under the endpoint so that direct TLS and STARTTLS targets share it.
                return await ConnectTargetAsync(target, endpoint.Host, endpoint.Port, alpn ?? [XmppTargets.AlpnProtocol], activity, cancellationToken).ConfigureAwait(false);
            }
            catch (ConduitException e) when (e is not ConduitTrustException)
            {
                failures.Add($"{target} ({target.Security}): {e.Message}");
                activity?.AddEvent(new ActivityEvent("conduit.target_failed", tags: new ActivityTagsCollection { ["target"] = target.ToString(), ["error"] = e.Message }));
            }
        }

        throw new ConduitException($"cannot reach {endpoint.Host}: tried {string.Join("; ", failures)}");
    }
}
