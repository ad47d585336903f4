using System.Diagnostics.Metrics;

namespace Apps.Stack.Tcp;

/// <summary>
/// Publishes the <see cref="TcpCounters"/> of every stack using TCP on the <c>Apps.Stack</c> meter
/// (observable counters, read when a listener collects): <c>apps.stack.tcp.segments</c> (tag
/// <c>direction</c>), <c>apps.stack.tcp.retransmissions</c> (tag <c>kind</c>), <c>apps.stack.tcp.resets</c>,
/// <c>apps.stack.tcp.connections</c> (tag <c>kind</c>) and <c>apps.stack.tcp.drops</c> (tag <c>reason</c>).
/// </summary>
internal static class TcpMetrics
{
    private static readonly Meter Meter = new(StackCounters.MeterName);
    private static readonly List<WeakReference<TcpCounters>> Registered = [];

    static TcpMetrics()
    {
        Meter.CreateObservableCounter("apps.stack.tcp.segments", () => Observe(
            ("direction", "in", c => c.SegmentsReceived), ("direction", "out", c => c.SegmentsSent)), "{segment}", "TCP segments received and sent");
        Meter.CreateObservableCounter("apps.stack.tcp.retransmissions", () => Observe(
            ("kind", "any", c => c.Retransmissions), ("kind", "fast", c => c.FastRetransmits), ("kind", "timeout", c => c.RetransmissionTimeouts),
            ("kind", "tail_loss_probe", c => c.TailLossProbes)),
            "{segment}", "TCP retransmissions: all, fast retransmit entries, retransmission timeouts");
        Meter.CreateObservableCounter("apps.stack.tcp.resets", () => Observe(
            ("direction", "in", c => c.ResetsReceived), ("direction", "out", c => c.ResetsSent)), "{segment}", "TCP resets received and sent");
        Meter.CreateObservableCounter("apps.stack.tcp.connections", () => Observe(
            ("kind", "opened", c => c.ConnectionsOpened), ("kind", "accepted", c => c.ConnectionsAccepted), ("kind", "timed_out", c => c.ConnectionsTimedOut),
            ("kind", "syn_cookie_sent", c => c.SynCookiesSent), ("kind", "syn_cookie_accepted", c => c.SynCookiesAccepted)),
            "{connection}", "TCP connections opened, accepted and timed out");
        Meter.CreateObservableCounter("apps.stack.tcp.drops", () => Observe(
            ("reason", "bad_checksum", c => c.BadChecksum), ("reason", "malformed", c => c.Malformed),
            ("reason", "out_of_window", c => c.OutOfWindowSegments), ("reason", "out_of_window_reset", c => c.OutOfWindowResets),
            ("reason", "paws", c => c.PawsRejected), ("reason", "invalid_ack", c => c.InvalidAcks),
            ("reason", "reassembly_limit", c => c.ReassemblyDrops), ("reason", "listen_overflow", c => c.ListenOverflows),
            ("reason", "syn_queue_eviction", c => c.SynQueueEvictions), ("reason", "reset_suppressed", c => c.ResetsSuppressed),
            ("reason", "challenge_ack_suppressed", c => c.ChallengeAcksSuppressed)),
            "{segment}", "TCP segments dropped or refused, by reason");
    }

    /// <summary>Includes <paramref name="counters"/> in the published sums while it is alive.</summary>
    public static void Register(TcpCounters counters)
    {
        lock (Registered) Registered.Add(new WeakReference<TcpCounters>(counters));
    }

    private static IEnumerable<Measurement<long>> Observe(params (string Tag, string Value, Func<TcpCounters, long> Read)[] series)
    {
        var sums = new long[series.Length];
        lock (Registered)
        {
            Registered.RemoveAll(w => !w.TryGetTarget(out _));
            foreach (var weak in Registered)
            {
                if (!weak.TryGetTarget(out var counters)) continue;
                for (int i = 0; i < series.Length; i++) sums[i] += series[i].Read(counters); // 64-bit reads are atomic; values may lag the loop
            }
        }
        var result = new Measurement<long>[series.Length];
        for (int i = 0; i < series.Length; i++) result[i] = new Measurement<long>(sums[i], new KeyValuePair<string, object?>(series[i].Tag, series[i].Value));
        return result;
    }
}
