using Apps.Stack.Arp;
using Apps.Stack.Ip;
using Apps.Stack.Wire;
using Apps.Stack.Netif;
using static Apps.Stack.Tests.InterfaceHarness;

namespace Apps.Stack.Tests.Ip;

/// <summary>Floods stay within the documented limits: memory is bounded whatever the peer sends.</summary>
public class FloodTests
{
    [Fact]
    public void Fragment_flood_with_random_ids_keeps_reassembly_bounded()
    {
        var h = new InterfaceHarness();
        h.LearnPeer();
        var random = new Random(9);
        var payload = new byte[1480];
        for (int i = 0; i < 10_000; i++)
        {
            h.Receive(h.Ip(IpProtocol.Udp, payload, moreFragments: true, fragmentOffset: 8 * random.Next(0, 7000), id: (ushort)random.Next()));
            Assert.True(h.Interface.ReassembliesInProgress <= Ipv4Reassembler.MaxDatagrams);
        }
        Assert.True(h.Counters.Drops(DropReason.ReassemblyLimit) >= 10_000 - Ipv4Reassembler.MaxDatagrams - 200, h.Counters.ToString());
        Assert.Empty(h.Sent);
    }

    [Fact]
    public void Arp_flood_from_many_addresses_keeps_the_table_bounded()
    {
        var h = new InterfaceHarness();
        for (int i = 0; i < 5_000; i++)
        {
            var sender = new Ipv4Address(0x0A000000u + 2 + (uint)i);
            h.Receive(InterfaceHarness.Arp(ArpOperation.Request, new MacAddress(0x0200_0000_0000UL + (ulong)i), sender, MacAddress.Zero, Us, MacAddress.Broadcast));
        }
        Assert.Equal(ArpCache.MaxEntries, h.Interface.NeighbourCount);
        Assert.Equal(5_000, h.Sent.Count); // each request still answered
    }

    [Fact]
    public async Task Frames_arriving_while_the_loop_is_busy_are_bounded_by_the_queue()
    {
        using var net = new SimulatedNetwork();
        var port = net.Switch.CreatePort();
        using var victim = new NetworkStack(port, new NetworkStackOptions
        {
            Address = Ipv4Settings.Parse("10.0.0.1/24"), TimeProvider = net.Time, MaxQueuedFrames = 16,
        });
        var flooder = net.Switch.CreatePort();
        flooder.Start((ReadOnlySpan<byte> _, in FrameOffload _) => { });
        using var gate = new ManualResetEventSlim();
        var busy = victim.Loop.InvokeAsync(_ => gate.Wait(TimeSpan.FromSeconds(30)));

        var frame = NoiseFrame();
        for (int i = 0; i < 1000; i++)
            flooder.Transmit(frame);
        gate.Set();
        await busy;
        Assert.True(victim.Loop.WaitIdle(TimeSpan.FromSeconds(10)));

        Assert.Equal(1000 - 16, victim.Counters.Drops(DropReason.QueueFull));
        Assert.Equal(16, victim.Counters.PacketsIn);
    }

    // A broadcast ARP request for an address nobody has: harmless to process, enough to queue.
    private static byte[] NoiseFrame() => Wire.Captures.ArpRequest;
}
