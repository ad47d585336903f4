using System.Diagnostics;
using System.Diagnostics.Metrics;
using Apps.TrustStore.Policy;

namespace Apps.TrustStore.Store;

/// <summary>
/// The layer's ActivitySource and Meter, both named <c>Apps.TrustStore</c> (ARCHITECTURE.md,
/// Observability). One span per <see cref="PinStore.Check"/>, and a counter of decisions tagged
/// with the policy and the outcome (accepted basis or rejection reason).
/// </summary>
public static class TrustStoreTelemetry
{
    /// <summary>The name of the ActivitySource and the Meter.</summary>
    public const string Name = "Apps.TrustStore";

    /// <summary>Spans: <c>trust.check</c>.</summary>
    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Counts decisions; tags <c>policy</c> (ca, tofu, pin) and <c>outcome</c> (pin-match, first-use, ca-verified, key-changed, ...).</summary>
    public static readonly Counter<long> Decisions = Meter.CreateCounter<long>("apps.truststore.decisions", "{decision}", "Trust decisions made by PinStore.Check");

    internal static void Record(TrustDecision decision, Activity? activity)
    {
        string outcome = decision switch
        {
            Accepted a => a.Basis switch
            {
                AcceptBasis.PinMatch => "pin-match",
                AcceptBasis.FirstUse => "first-use",
                _ => "ca-verified",
            },
            Rejected r => r.Reason switch
            {
                RejectReason.KeyChanged => "key-changed",
                RejectReason.NotPinned => "not-pinned",
                RejectReason.NotCaVerified => "not-ca-verified",
                _ => "malformed-chain",
            },
            _ => "unknown",
        };
        Decisions.Add(1, new KeyValuePair<string, object?>("policy", decision.Policy.Name()), new KeyValuePair<string, object?>("outcome", outcome));
        if (activity is not null)
        {
            activity.SetTag("trust.policy", decision.Policy.Name());
            activity.SetTag("trust.outcome", outcome);
            if (decision is Rejected) activity.SetStatus(ActivityStatusCode.Error, outcome);
        }
    }
}
