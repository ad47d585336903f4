using Apps.Conduit.Dns;
using Apps.Conduit.Endpoints;

namespace Apps.Conduit.Tests;

/// <summary>RFC 2782 ordering and the XEP-0368 / RFC 6120 §3.2 decision, with randomness given by the test.</summary>
public sealed class XmppTargetsTests
{
    private static SrvLookup Lookup(params SrvRecord[] records) => new(records);

    private static int Highest(int max) => max;

    [Fact]
    public void Lower_priority_comes_first_whatever_the_weights()
    {
        var ordered = SrvOrder.Arrange([new SrvRecord(20, 100, 1, "b"), new SrvRecord(10, 0, 2, "a"), new SrvRecord(30, 65535, 3, "c")],
            r => r.Priority, r => r.Weight, Highest);

        Assert.Equal(["a", "b", "c"], ordered.Select(r => r.Target));
    }

    [Fact]
    public void Weight_zero_records_are_chosen_only_when_the_draw_is_zero()
    {
        SrvRecord[] group = [new SrvRecord(0, 5, 1, "heavy"), new SrvRecord(0, 0, 2, "zero")];

        var drawZero = SrvOrder.Arrange(group, r => r.Priority, r => r.Weight, _ => 0);
        var drawHigh = SrvOrder.Arrange(group, r => r.Priority, r => r.Weight, Highest);

        Assert.Equal(["zero", "heavy"], drawZero.Select(r => r.Target));
        Assert.Equal(["heavy", "zero"], drawHigh.Select(r => r.Target));
    }

    [Fact]
    public void Running_sum_picks_the_first_record_reaching_the_draw()
    {
        SrvRecord[] group = [new SrvRecord(0, 10, 1, "a"), new SrvRecord(0, 20, 2, "b"), new SrvRecord(0, 30, 3, "c")];
        var draws = new Queue<int>([11, 0, 0]); // 11 falls in b's range (11..30); then a (1..10) of a+c; then c

        var ordered = SrvOrder.Arrange(group, r => r.Priority, r => r.Weight, max => Math.Min(draws.Dequeue(), max));

        Assert.Equal(["b", "a", "c"], ordered.Select(r => r.Target));
    }

    [Fact]
    public void First_choice_follows_the_weights_over_many_draws()
    {
        var random = new Random(2782);
        SrvRecord[] group = [new SrvRecord(0, 1, 1, "light"), new SrvRecord(0, 3, 2, "heavy")];
        var heavyFirst = 0;
        for (var i = 0; i < 10_000; i++)
        {
            if (SrvOrder.Arrange(group, r => r.Priority, r => r.Weight, max => random.Next(max + 1))[0].Target == "heavy")
            {
                heavyFirst++;
            }
        }

        // Running sums are light 1, heavy 4; draws 0..4 are uniform and 2, 3, 4 pick heavy: a share of 3/5.
        Assert.InRange(heavyFirst, 5_700, 6_300);
    }

    [Fact]
    public void Direct_tls_and_starttls_records_are_mixed_by_priority_and_marked()
    {
        var plan = XmppTargets.Plan("example.test", 5222,
            Lookup(new SrvRecord(5, 0, 5223, "tls.example.test")),
            Lookup(new SrvRecord(1, 0, 5222, "xmpp.example.test"), new SrvRecord(10, 0, 5222, "backup.example.test")),
            Highest);

        Assert.False(plan.NotOffered);
        Assert.Equal(
            [
                new ConnectTarget("xmpp.example.test", 5222, TargetSecurity.StartTls, true),
                new ConnectTarget("tls.example.test", 5223, TargetSecurity.DirectTls, true),
                new ConnectTarget("backup.example.test", 5222, TargetSecurity.StartTls, true),
            ],
            plan.Targets);
    }

    [Fact]
    public void No_records_fall_back_to_the_domain_with_starttls()
    {
        var plan = XmppTargets.Plan("example.test", 5222, SrvLookup.Empty, SrvLookup.Failed("timeout"), Highest);

        Assert.Equal([new ConnectTarget("example.test", 5222, TargetSecurity.StartTls)], plan.Targets);
    }

    [Fact]
    public void Dot_target_for_both_services_means_not_offered()
    {
        var plan = XmppTargets.Plan("example.test", 5222, Lookup(new SrvRecord(0, 0, 0, ".")), Lookup(new SrvRecord(0, 0, 0, ".")), Highest);

        Assert.True(plan.NotOffered);
        Assert.Empty(plan.Targets);
    }

    [Fact]
    public void Dot_direct_tls_target_leaves_the_starttls_records()
    {
        var plan = XmppTargets.Plan("example.test", 5222, Lookup(new SrvRecord(0, 0, 0, ".")), Lookup(new SrvRecord(0, 0, 5222, "xmpp.example.test")), Highest);

        Assert.Equal([new ConnectTarget("xmpp.example.test", 5222, TargetSecurity.StartTls, true)], plan.Targets);
    }

    [Fact]
    public void Dot_direct_tls_target_without_starttls_records_forbids_the_fallback()
    {
        // XEP-0368 §5: the SRV protocol is in use for the domain, so no A/AAAA fallback.
        var plan = XmppTargets.Plan("example.test", 5222, Lookup(new SrvRecord(0, 0, 0, ".")), SrvLookup.Empty, Highest);

        Assert.True(plan.NotOffered);
    }
}
