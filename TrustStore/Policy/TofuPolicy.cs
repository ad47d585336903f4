using System.Globalization;
using Apps.TrustStore.Certificates;

namespace Apps.TrustStore.Policy;

/// <summary>Tunables of <see cref="TofuPolicy"/>.</summary>
/// <param name="ExpiryWarning">How long before notAfter an accepted certificate is reported as expiring.</param>
public sealed record TofuOptions(TimeSpan ExpiryWarning)
{
    /// <summary>Thirty days' warning.</summary>
    public static TofuOptions Default { get; } = new(TimeSpan.FromDays(30));
}

/// <summary>
/// The trust-on-first-use decision, sans-IO: the request, the policy in force and the server's
/// pins in; accept-with-record or reject-with-reason out. It reads no clock and touches no
/// database; Store.PinStore.Check loads its inputs and applies its output.
/// <para>Read this first. Invariants: a key that matches no existing pin is never pinned
/// silently, except for a server with no pin at all (first use, policies ca and tofu) and
/// under policy ca, where CA-verified keys replace earlier CA-verified ones. A CA verdict
/// never overrides a pin under tofu or pin: that is the point of pinning.</para>
/// </summary>
public static class TofuPolicy
{
    /// <summary>The most certificates considered in an offered chain.</summary>
    public const int MaxChainLength = 10;

    /// <summary>Decides whether <paramref name="request"/>'s key is trusted.</summary>
    /// <param name="request">The offered chain, CA verdict and time.</param>
    /// <param name="policy">The policy in force for the server.</param>
    /// <param name="pins">The server's pins (same host and port).</param>
    /// <param name="options">Tunables; <see cref="TofuOptions.Default"/> when null.</param>
    public static TrustDecision Decide(TrustRequest request, TrustPolicy policy, IReadOnlyList<Pin> pins, TofuOptions? options = null)
    {
        options ??= TofuOptions.Default;
        HostPort server = request.Server;
        DateTimeOffset now = request.Now;

        CertificateInfo leaf;
        try
        {
            if (request.OfferedChain.Count == 0)
                throw new CertificateFormatException("the server sent no certificate");
            if (request.OfferedChain.Count > MaxChainLength)
                throw new CertificateFormatException($"the server sent more than {MaxChainLength} certificates");
            leaf = CertificateInfo.Parse(request.OfferedChain[0]);
        }
        catch (CertificateFormatException e)
        {
            return new Rejected(policy, RejectReason.MalformedChain,
                $"server {server} sent an unusable certificate ({e.Message}); the server is at fault, contact its administrator",
                Event(request, HistoryEventKind.KeyRejected, null, [], e.Message));
        }

        SpkiFingerprint offered = leaf.Spki;
        Pin? match = null;
        foreach (Pin pin in pins)
        {
            if (pin.Spki == offered) { match = pin; break; }
        }

        if (match is not null && policy != TrustPolicy.Ca)
            return Sighting(request, policy, match, leaf, options);

        switch (policy)
        {
            case TrustPolicy.Ca when !request.Ca.Verified:
                return Reject(request, policy, RejectReason.NotCaVerified, offered,
                    $"certificate for {server} is not CA-verified ({request.Ca.Reason}) and the policy is ca; " +
                    $"if you trust key {offered} run 'trust pin {server} --fingerprint {offered}' and 'trust policy {server.Host} tofu'");
            case TrustPolicy.Ca when match is not null:
                return Sighting(request, policy, match, leaf, options);
            case TrustPolicy.Ca:
            {
                var superseded = new List<int>();
                foreach (Pin pin in pins)
                    if (pin.TrustedBy == TrustedBy.CaVerified) superseded.Add(pin.Id);
                return NewPin(request, policy, leaf, AcceptBasis.CaVerified, TrustedBy.CaVerified, superseded, options);
            }
            case TrustPolicy.Tofu when pins.Count == 0:
                return request.Ca.Verified
                    ? NewPin(request, policy, leaf, AcceptBasis.CaVerified, TrustedBy.CaVerified, [], options)
                    : NewPin(request, policy, leaf, AcceptBasis.FirstUse, TrustedBy.FirstUse, [], options);
            case TrustPolicy.Pin when pins.Count == 0:
                return Reject(request, policy, RejectReason.NotPinned, offered,
                    $"no key is pinned for {server} and the policy is pin; after checking the server's key out of band " +
                    $"run 'trust pin {server} --fingerprint {offered}' (or 'trust accept-change {server}')");
            default:
                return Reject(request, policy, RejectReason.KeyChanged, offered, KeyChangedMessage(server, pins, offered));
        }
    }

    /// <summary>
    /// The one line shown when a pinned server offers another key: both fingerprints, when the
    /// pinned one was first seen, and the command that accepts the change.
    /// </summary>
    public static string KeyChangedMessage(HostPort server, IReadOnlyList<Pin> pins, SpkiFingerprint offered)
    {
        Pin newest = pins[0];
        foreach (Pin pin in pins)
            if (pin.LastSeen > newest.LastSeen) newest = pin;
        string others = pins.Count > 1 ? $" and {pins.Count - 1} other pin(s)" : "";
        return $"certificate key for {server} changed: pinned {newest.Spki}{others} (first seen {Day(newest.FirstSeen)}), " +
               $"offered {offered}; if the change is expected run 'trust accept-change {server}', otherwise someone may be intercepting the connection";
    }

    private static Accepted Sighting(TrustRequest request, TrustPolicy policy, Pin match, CertificateInfo leaf, TofuOptions options)
    {
        Pin updated = match with
        {
            LastSeen = request.Now > match.LastSeen ? request.Now : match.LastSeen,
            TimesSeen = match.TimesSeen + 1,
            Chain = request.OfferedChain,
            Certificate = leaf,
        };
        return new Accepted(policy, AcceptBasis.PinMatch, updated, false, [], null, ExpiryWarnings(request, leaf, options));
    }

    private static Accepted NewPin(TrustRequest request, TrustPolicy policy, CertificateInfo leaf, AcceptBasis basis,
        TrustedBy trustedBy, IReadOnlyList<int> superseded, TofuOptions options)
    {
        var pin = new Pin
        {
            Service = request.Service,
            Server = request.Server,
            Spki = leaf.Spki,
            Chain = request.OfferedChain,
            Certificate = leaf,
            FirstSeen = request.Now,
            LastSeen = request.Now,
            TimesSeen = 1,
            TrustedBy = trustedBy,
        };
        var warnings = new List<string>();
        HistoryEvent ev;
        if (basis == AcceptBasis.FirstUse)
        {
            warnings.Add($"first connection to {request.Server}: pinned key {leaf.Spki} without CA verification ({request.Ca.Reason}); " +
                         $"check it out of band, and run 'trust forget {request.Server}' if it is not the server's");
            ev = Event(request, HistoryEventKind.FirstUse, leaf.Spki, request.OfferedChain, $"pinned on first use (not CA-verified: {request.Ca.Reason})");
        }
        else
        {
            ev = Event(request, HistoryEventKind.CaVerified, leaf.Spki, request.OfferedChain,
                superseded.Count > 0 ? $"CA-verified key recorded, replacing {superseded.Count} earlier CA-verified key(s)" : "CA-verified key recorded");
        }
        warnings.AddRange(ExpiryWarnings(request, leaf, options));
        return new Accepted(policy, basis, pin, true, superseded, ev, warnings);
    }

    private static Rejected Reject(TrustRequest request, TrustPolicy policy, RejectReason reason, SpkiFingerprint offered, string message) =>
        new(policy, reason, message, Event(request, HistoryEventKind.KeyRejected, offered, request.OfferedChain, message));

    private static List<string> ExpiryWarnings(TrustRequest request, CertificateInfo leaf, TofuOptions options)
    {
        var warnings = new List<string>();
        TimeSpan left = leaf.NotAfter - request.Now;
        if (left < TimeSpan.Zero)
            warnings.Add($"certificate for {request.Server} expired on {Day(leaf.NotAfter)}; the pinned key still matches, ask the server's administrator to renew it");
        else if (left <= options.ExpiryWarning)
            warnings.Add($"certificate for {request.Server} expires on {Day(leaf.NotAfter)} (in {(int)left.TotalDays} days)");
        return warnings;
    }

    private static HistoryEvent Event(TrustRequest request, HistoryEventKind kind, SpkiFingerprint? spki, IReadOnlyList<byte[]> chain, string detail) =>
        new(0, request.Server, request.Service, request.Now, kind, spki, chain, detail);

    private static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
