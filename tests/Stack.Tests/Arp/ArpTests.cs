using Apps.Stack.Arp;
using Apps.Stack.Wire;
using static Apps.Stack.Tests.InterfaceHarness;

namespace Apps.Stack.Tests.Arp;

public class ArpTests
{
    [Fact]
    public void Configuring_an_address_sends_probe_and_gratuitous_announcement()
    {
        var h = new InterfaceHarness(configure: false);
        h.Interface.Configure(new Ipv4Settings(Us, 24), h.Now);

        Assert.Equal(2, h.Sent.Count);
        Assert.True(ArpPacket.TryParse(h.Sent[0].AsSpan(14), out var probe, out _));
        Assert.Equal(Ipv4Address.Any, probe.SenderProtocol);       // RFC 5227 probe
        Assert.Equal(Us, probe.TargetProtocol);
        Assert.True(ArpPacket.TryParse(h.Sent[1].AsSpan(14), out var announce, out _));
        Assert.Equal(Us, announce.SenderProtocol);                  // RFC 5227 announcement
        Assert.Equal(Us, announce.TargetProtocol);
    }

    [Fact]
    public void Answers_a_request_for_our_address_and_learns_the_sender()
    {
        var h = new InterfaceHarness();
        h.Receive(InterfaceHarness.Arp(ArpOperation.Request, PeerMac, Peer, MacAddress.Zero, Us, MacAddress.Broadcast));

        var reply = Assert.Single(h.Sent);
        Assert.True(EthernetHeader.TryParse(reply, out var eth));
        Assert.Equal(PeerMac, eth.Destination);
        Assert.True(ArpPacket.TryParse(reply.AsSpan(14), out var arp, out _));
        Assert.Equal(new ArpPacket(ArpOperation.Reply, OurMac, Us, PeerMac, Peer), arp);

        // Learned: an echo to the peer goes out at once, without an ARP request.
        h.Sent.Clear();
        h.Interface.SendEchoRequest(Peer, 1, 1, [1, 2, 3], h.Now);
        Assert.Equal(PeerMac, MacAddress.Read(Assert.Single(h.Sent)));
    }

    [Fact]
    public void Requests_for_other_hosts_are_not_answered_nor_learned()
    {
        var h = new InterfaceHarness();
        h.Receive(InterfaceHarness.Arp(ArpOperation.Request, PeerMac, Peer, MacAddress.Zero, Ipv4Address.Parse("10.0.0.77"), MacAddress.Broadcast));
        Assert.Empty(h.Sent);
        h.Interface.SendEchoRequest(Peer, 1, 1, [], h.Now);
        Assert.True(ArpPacket.TryParse(Assert.Single(h.Sent).AsSpan(14), out var request, out _));
        Assert.Equal(ArpOperation.Request, request.Operation);
    }

    [Fact]
    public void Packets_wait_for_resolution_and_flush_on_reply()
    {
        var h = new InterfaceHarness();
        h.Interface.SendEchoRequest(Peer, 1, 1, [1], h.Now);
        h.Interface.SendEchoRequest(Peer, 1, 2, [2], h.Now);
        Assert.Single(h.Sent); // one ARP request for both

        h.Sent.Clear();
        h.Receive(InterfaceHarness.Arp(ArpOperation.Reply, PeerMac, Peer, OurMac, Us, OurMac));

        Assert.Equal(2, h.Sent.Count);
        Assert.All(h.Sent, f => Assert.Equal(PeerMac, MacAddress.Read(f)));
    }

    [Fact]
    public void Unanswered_requests_are_retried_then_queued_packets_dropped()
    {
        var h = new InterfaceHarness();
        h.Interface.SendEchoRequest(Peer, 1, 1, [1], h.Now);
        for (int i = 0; i < 5; i++)
            h.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(ArpCache.MaxRequests, h.Sent.Count);
        Assert.Equal(1, h.Counters.Drops(DropReason.Unresolved));
    }

    [Fact]
    public void Learned_entries_expire()
    {
        var h = new InterfaceHarness();
        h.LearnPeer();
        h.Advance(ArpCache.EntryLifetime + TimeSpan.FromSeconds(1));
        h.Interface.SendEchoRequest(Peer, 1, 1, [], h.Now);
        Assert.True(ArpPacket.TryParse(Assert.Single(h.Sent).AsSpan(14), out var arp, out _));
        Assert.Equal(ArpOperation.Request, arp.Operation);
    }

    [Fact]
    public void Pending_queue_is_bounded()
    {
        var h = new InterfaceHarness();
        for (int i = 0; i < ArpCache.MaxPendingPackets + 10; i++)
            h.Interface.SendEchoRequest(Peer, 1, (ushort)i, [], h.Now);
        Assert.Equal(10, h.Counters.Drops(DropReason.QueueFull));
    }

    [Fact]
    public void Another_host_claiming_our_address_is_a_conflict()
    {
        var h = new InterfaceHarness();
        h.Receive(InterfaceHarness.Arp(ArpOperation.Request, PeerMac, Us, MacAddress.Zero, Us, MacAddress.Broadcast));
        Assert.Equal(1, h.Interface.AddressConflicts);
        Assert.Empty(h.Sent);
    }

    [Fact]
    public void Table_is_bounded_and_evicts_the_oldest_resolved_entry()
    {
        var cache = new ArpCache();
        for (int i = 0; i < ArpCache.MaxEntries + 20; i++)
            cache.Learn(new Ipv4Address(0x0A000000u + (uint)i), PeerMac, TimeSpan.FromMilliseconds(i), create: true);
        Assert.Equal(ArpCache.MaxEntries, cache.Count);
        Assert.False(cache.TryLookup(new Ipv4Address(0x0A000000u), TimeSpan.FromSeconds(1), out _));
        Assert.True(cache.TryLookup(new Ipv4Address(0x0A000000u + ArpCache.MaxEntries + 19), TimeSpan.FromSeconds(1), out _));
    }

    [Fact]
    public void Multicast_sender_hardware_is_refused()
    {
        var h = new InterfaceHarness();
        h.Receive(InterfaceHarness.Arp(ArpOperation.Request, MacAddress.Broadcast, Peer, MacAddress.Zero, Us, MacAddress.Broadcast));
        Assert.Empty(h.Sent);
        Assert.Equal(1, h.Counters.Drops(DropReason.Malformed));
    }

    [Fact]
    public void Probing_reports_another_host_using_or_probing_the_address()
    {
        var h = new InterfaceHarness(configure: false);
        var candidate = Ipv4Address.Parse("10.0.0.50");
        var conflicts = new List<Ipv4Address>();
        h.Interface.ProbeConflict = conflicts.Add;

        h.Interface.Probe(candidate);
        Assert.True(ArpPacket.TryParse(Assert.Single(h.Sent).AsSpan(14), out var probe, out _));
        Assert.Equal((Ipv4Address.Any, candidate), (probe.SenderProtocol, probe.TargetProtocol));

        h.Receive(InterfaceHarness.Arp(ArpOperation.Reply, PeerMac, candidate, OurMac, Ipv4Address.Any, OurMac));
        h.Receive(InterfaceHarness.Arp(ArpOperation.Request, PeerMac, Ipv4Address.Any, MacAddress.Zero, candidate, MacAddress.Broadcast));
        Assert.Equal([candidate, candidate], conflicts);

        h.Interface.Probe(null);
        h.Receive(InterfaceHarness.Arp(ArpOperation.Reply, PeerMac, candidate, OurMac, Ipv4Address.Any, OurMac));
        Assert.Equal(2, conflicts.Count);
    }
}
