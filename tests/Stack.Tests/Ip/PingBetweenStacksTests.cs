using Apps.Stack.Netif;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Ip;

public class PingBetweenStacksTests
{
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    [Fact]
    public async Task Stack_answers_ping_from_another_stack_over_the_switch()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24");

        var rtt = await net.RunAsync(a.PingAsync(B, TimeSpan.FromSeconds(1)));

        Assert.Equal(TimeSpan.Zero, rtt);
        Assert.Equal(1, b.Interface.EchoRequestsAnswered);
        Assert.Equal(0, a.Counters.TotalDrops);
    }

    [Fact]
    public async Task Round_trip_time_is_the_sum_of_link_delays_in_virtual_time()
    {
        using var net = new SimulatedNetwork();
        var delayed = new LinkImpairments { Delay = TimeSpan.FromMilliseconds(3) };
        var a = net.AddStack("10.0.0.1/24", delayed);
        net.AddStack("10.0.0.2/24", delayed);

        await net.AdvanceAsync(TimeSpan.FromMilliseconds(50)); // let the start-up ARP announcements pass

        // First ping pays for ARP (one more round trip); the second one is the plain RTT.
        var first = await net.RunAsync(a.PingAsync(B, TimeSpan.FromSeconds(1)));
        var second = await net.RunAsync(a.PingAsync(B, TimeSpan.FromSeconds(1)));

        Assert.Equal(TimeSpan.FromMilliseconds(24), first);
        Assert.Equal(TimeSpan.FromMilliseconds(12), second);
    }

    [Fact]
    public async Task Large_echo_is_fragmented_and_reassembled()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24");

        await net.RunAsync(a.PingAsync(B, TimeSpan.FromSeconds(1), dataLength: 8000));

        Assert.Equal(1, b.Interface.EchoRequestsAnswered);
        // 8008 ICMP bytes in 1480-byte fragments: 6 frames each way, plus ARP.
        Assert.True(b.Counters.PacketsIn >= 6, b.Counters.ToString());
    }

    [Fact]
    public async Task Ping_to_absent_host_times_out_and_counts_unresolved()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");

        var ping = a.PingAsync(Ipv4Address.Parse("10.0.0.99"), TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<TimeoutException>(() => net.RunAsync(ping, TimeSpan.FromMilliseconds(100)));

        Assert.Equal(1, a.Counters.Drops(DropReason.Unresolved));
    }

    [Fact]
    public async Task Off_link_destination_goes_through_the_gateway()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24", gateway: "10.0.0.254");
        var router = net.AddStack("10.0.0.254/24");

        // The "router" owns no 192.0.2.7, so it drops the echo; what matters is that it got it.
        var ping = a.PingAsync(Ipv4Address.Parse("192.0.2.7"), TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<TimeoutException>(() => net.RunAsync(ping, TimeSpan.FromMilliseconds(100)));

        Assert.Equal(1, router.Counters.Drops(DropReason.NotForUs));
    }

    [Fact]
    public async Task Off_link_destination_without_gateway_fails_with_no_route()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");

        var e = await Assert.ThrowsAsync<NetworkStackException>(() => net.RunAsync(a.PingAsync(Ipv4Address.Parse("192.0.2.7"), TimeSpan.FromSeconds(1))));
        Assert.Equal(DropReason.NoRoute, e.Reason);
    }

    [Fact]
    public async Task Pings_survive_a_lossy_duplicating_reordering_link()
    {
        using var net = new SimulatedNetwork(seed: 42);
        // Each frame crosses two ports: ~10% loss, and a 3000-byte echo is 3 fragments each way.
        var bad = new LinkImpairments { Loss = 0.05, Duplication = 0.2, Reordering = 0.3, Delay = TimeSpan.FromMilliseconds(1) };
        var a = net.AddStack("10.0.0.1/24", bad);
        var b = net.AddStack("10.0.0.2/24", bad);

        // The timeout covers an ARP retry (1 s) when an ARP frame is the one lost. A ping gets through about half
        // the time (12 of 24 here: 6 fragments, each crossing two lossy ports). The seed does not fix the outcome:
        // the two stacks' loops reach the switch's random draws in the order the machine's load gives them. At even
        // odds, 24 pings with fewer than 2 or all answered happen about once in 600,000 runs; the 12 pings this test
        // had, with fewer than 3 or all answered, about twice in 100 (a loaded CI run saw 2 answered).
        const int pings = 24;
        int answered = 0, lost = 0;
        for (int i = 0; i < pings; i++)
        {
            try
            {
                await net.RunAsync(a.PingAsync(B, TimeSpan.FromMilliseconds(1500), dataLength: 3000), TimeSpan.FromMilliseconds(25));
                answered++;
            }
            catch (TimeoutException)
            {
                lost++;
            }
        }

        Assert.Equal(pings, answered + lost);
        Assert.True(answered is >= 2 and < pings, $"{answered} answered; a: {a.Counters}; b: {b.Counters}");
        Assert.True(net.Switch.Dropped > 0);
    }

    [Fact]
    public async Task Bandwidth_limit_adds_serialization_time()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        net.AddStack("10.0.0.2/24", new LinkImpairments { BitsPerSecond = 1_000_000 });
        await net.AdvanceAsync(TimeSpan.FromMilliseconds(50));
        await net.RunAsync(a.PingAsync(B, TimeSpan.FromSeconds(1))); // ARP

        // A 1042-byte frame towards the 1 Mbit/s port takes 8.3 ms on the wire; the reply is unlimited.
        var rtt = await net.RunAsync(a.PingAsync(B, TimeSpan.FromSeconds(1), dataLength: 1000), TimeSpan.FromMilliseconds(1));

        Assert.InRange(rtt, TimeSpan.FromMilliseconds(8), TimeSpan.FromMilliseconds(10));
    }

    [Fact]
    public async Task Ping_and_udp_to_our_own_address_loop_back_without_touching_the_link()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        await net.AdvanceAsync(TimeSpan.FromMilliseconds(10));
        long sentBefore = a.Counters.PacketsOut;

        var rtt = await net.RunAsync(a.PingAsync(Ipv4Address.Parse("10.0.0.1"), TimeSpan.FromSeconds(1)));
        using var receiver = await net.RunAsync(a.OpenUdpAsync(5000));
        using var sender = await net.RunAsync(a.OpenUdpAsync());
        await net.RunAsync(sender.SendToAsync("self"u8.ToArray(), Ipv4Address.Parse("10.0.0.1"), 5000));
        var got = await net.RunAsync(receiver.ReceiveAsync().AsTask());

        Assert.Equal(TimeSpan.Zero, rtt);
        Assert.Equal("self"u8.ToArray(), got.Data);
        Assert.Equal(sender.LocalPort, got.RemotePort);
        Assert.Equal(sentBefore, a.Counters.PacketsOut);
    }
}
