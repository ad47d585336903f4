using Apps.Stack.Dhcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Dhcp;

/// <summary>The DHCP client core, state by state (RFC 2131 Figure 5), against a scripted server in virtual time.</summary>
public class DhcpClientTests
{
    private static readonly MacAddress Mac = MacAddress.Parse("02:00:00:00:00:01");
    private static readonly Ipv4Address Server = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Offered = Ipv4Address.Parse("10.0.0.50");

    private sealed class Output : IDhcpOutput
    {
        public List<(DhcpMessage Message, Ipv4Address Source, Ipv4Address Destination)> Sent { get; } = [];
        public List<DhcpLease?> Leases { get; } = [];
        public List<Ipv4Address?> Probes { get; } = [];
        public void Probe(Ipv4Address? address) => Probes.Add(address);
        public void Send(DhcpMessage message, Ipv4Address source, Ipv4Address destination) => Sent.Add((message, source, destination));
        public void LeaseChanged(DhcpLease? lease) => Leases.Add(lease);
        public DhcpMessage Last => Sent[^1].Message;
    }

    private sealed class Fixture
    {
        private readonly Random _random = new(3);
        public Output Out { get; } = new();
        public DhcpClient Client { get; }
        public TimeSpan Now { get; private set; }

        public Fixture() => Client = new DhcpClient(Mac, b => _random.NextBytes(b), "box", Out);

        public DropReason Reply(DhcpMessageType type, uint lease = 3600, Ipv4Address? yiaddr = null, uint? xid = null) =>
            Client.Receive(new DhcpMessage
            {
                Op = 2, TransactionId = xid ?? Out.Last.TransactionId, ClientHardware = Mac, YourAddress = yiaddr ?? Offered,
                MessageType = type, ServerIdentifier = Server, LeaseSeconds = lease, SubnetMask = Ipv4Address.Parse("255.255.255.0"),
                Router = Server, DnsServers = [Server],
            }.ToArray(), Now);

        public void RunUntil(TimeSpan t)
        {
            while (Client.NextDeadline <= t)
            {
                Now = Client.NextDeadline;
                Client.Poll(Now);
            }
            Now = t;
        }

        public void Bind()
        {
            Client.Start(Now);
            Reply(DhcpMessageType.Offer);
            Reply(DhcpMessageType.Ack);
            RunUntil(Now + DhcpClient.ProbeInterval * DhcpClient.ProbeCount);
            Assert.Equal(DhcpState.Bound, Client.State);
            Out.Sent.Clear();
        }
    }

    [Fact]
    public void Start_broadcasts_a_discover_from_0_0_0_0()
    {
        var f = new Fixture();
        f.Client.Start(f.Now);

        var (m, src, dst) = Assert.Single(f.Out.Sent);
        Assert.Equal(DhcpState.Selecting, f.Client.State);
        Assert.Equal(DhcpMessageType.Discover, m.MessageType);
        Assert.Equal((Ipv4Address.Any, Ipv4Address.Broadcast), (src, dst));
        Assert.True(m.Broadcast);
        Assert.Equal(Mac, m.ClientHardware);
        Assert.Equal("box", m.HostName);
    }

    [Fact]
    public void Discover_is_retransmitted_with_exponential_backoff()
    {
        var f = new Fixture();
        f.Client.Start(f.Now);
        f.RunUntil(TimeSpan.FromSeconds(200));

        // 4, 8, 16, 32, 64, 64... seconds (±1 s): at 0, ~4, ~12, ~28, ~60, ~124, ~188.
        Assert.Equal(7, f.Out.Sent.Count);
        Assert.All(f.Out.Sent, s => Assert.Equal(DhcpMessageType.Discover, s.Message.MessageType));
    }

    [Fact]
    public void Offer_leads_to_a_broadcast_request_naming_server_and_address()
    {
        var f = new Fixture();
        f.Client.Start(f.Now);
        Assert.Equal(DropReason.None, f.Reply(DhcpMessageType.Offer));

        var request = f.Out.Last;
        Assert.Equal(DhcpState.Requesting, f.Client.State);
        Assert.Equal(DhcpMessageType.Request, request.MessageType);
        Assert.Equal(Offered, request.RequestedAddress);
        Assert.Equal(Server, request.ServerIdentifier);
        Assert.Equal(Ipv4Address.Broadcast, f.Out.Sent[^1].Destination);
    }

    [Fact]
    public void Ack_is_followed_by_arp_probes_then_binds_the_lease_with_default_t1_and_t2()
    {
        var f = new Fixture();
        f.Client.Start(f.Now);
        f.Reply(DhcpMessageType.Offer);
        f.Reply(DhcpMessageType.Ack, lease: 1000);

        Assert.Equal(DhcpState.CheckingAddress, f.Client.State);
        Assert.Empty(f.Out.Leases);
        f.RunUntil(TimeSpan.FromSeconds(5));

        Assert.Equal([Offered, Offered, null], f.Out.Probes);
        Assert.Equal(DhcpState.Bound, f.Client.State);
        var lease = Assert.Single(f.Out.Leases)!;
        Assert.Equal(new Ipv4Settings(Offered, 24, Server), lease.ToSettings());
        Assert.Equal(TimeSpan.FromSeconds(500), lease.RenewalTime);
        Assert.Equal(TimeSpan.FromSeconds(875), lease.RebindingTime);
    }

    [Fact]
    public void Replies_with_another_xid_or_mac_are_ignored()
    {
        var f = new Fixture();
        f.Client.Start(f.Now);
        Assert.Equal(DropReason.NotForUs, f.Reply(DhcpMessageType.Offer, xid: f.Out.Last.TransactionId + 1));
        Assert.Equal(DhcpState.Selecting, f.Client.State);
    }

    [Fact]
    public void Unanswered_request_restarts_discovery()
    {
        var f = new Fixture();
        f.Client.Start(f.Now);
        f.Reply(DhcpMessageType.Offer);
        f.RunUntil(TimeSpan.FromSeconds(100));
        Assert.Contains(f.Out.Sent, s => s.Message.MessageType == DhcpMessageType.Discover && s != f.Out.Sent[0]);
    }

    [Fact]
    public void At_t1_renews_by_unicast_to_the_server_and_ack_extends_the_lease()
    {
        var f = new Fixture();
        f.Bind();
        f.RunUntil(TimeSpan.FromSeconds(1800));

        Assert.Equal(DhcpState.Renewing, f.Client.State);
        var (m, src, dst) = Assert.Single(f.Out.Sent);
        Assert.Equal((Offered, Server), (src, dst));
        Assert.Equal(Offered, m.ClientAddress);
        Assert.Null(m.ServerIdentifier); // RFC 2131 §4.3.2: not in RENEWING

        f.Reply(DhcpMessageType.Ack);
        Assert.Equal(DhcpState.Bound, f.Client.State);
        f.RunUntil(TimeSpan.FromSeconds(3500)); // would have expired at 3600 under the old lease
        Assert.Equal(DhcpState.Bound, f.Client.State);
    }

    [Fact]
    public void Without_answers_rebinds_at_t2_by_broadcast_then_loses_the_lease_at_expiry()
    {
        var f = new Fixture();
        f.Bind();
        f.RunUntil(TimeSpan.FromSeconds(3150));
        Assert.Equal(DhcpState.Rebinding, f.Client.State);
        var rebind = f.Out.Sent[^1];
        Assert.Equal(Ipv4Address.Broadcast, rebind.Destination);
        Assert.Equal(Offered, rebind.Message.ClientAddress);

        f.RunUntil(TimeSpan.FromSeconds(3600));
        Assert.Equal(DhcpState.Selecting, f.Client.State);
        Assert.Null(f.Out.Leases[^1]);
        Assert.Equal(DhcpMessageType.Discover, f.Out.Last.MessageType);
    }

    [Fact]
    public void Nak_while_renewing_drops_the_lease_and_restarts()
    {
        var f = new Fixture();
        f.Bind();
        f.RunUntil(TimeSpan.FromSeconds(1800));
        f.Reply(DhcpMessageType.Nak);

        Assert.Null(f.Out.Leases[^1]);
        Assert.Equal(DhcpState.Selecting, f.Client.State);
    }

    [Fact]
    public void Ack_with_unusable_address_is_malformed()
    {
        var f = new Fixture();
        f.Client.Start(f.Now);
        f.Reply(DhcpMessageType.Offer);
        Assert.Equal(DropReason.Malformed, f.Reply(DhcpMessageType.Ack, yiaddr: Ipv4Address.Broadcast));
        Assert.Equal(DhcpState.Requesting, f.Client.State);
    }

    [Fact]
    public void Conflict_while_probing_declines_the_address_and_restarts_after_ten_seconds()
    {
        var f = new Fixture();
        f.Client.Start(f.Now);
        f.Reply(DhcpMessageType.Offer);
        f.Reply(DhcpMessageType.Ack);
        f.Client.ConflictDetected(Offered, f.Now);

        var (decline, src, dst) = f.Out.Sent[^1];
        Assert.Equal(DhcpMessageType.Decline, decline.MessageType);
        Assert.Equal(Offered, decline.RequestedAddress);
        Assert.Equal(Server, decline.ServerIdentifier);
        Assert.Equal((Ipv4Address.Any, Ipv4Address.Broadcast), (src, dst));
        Assert.Empty(f.Out.Leases);
        Assert.Equal(DhcpState.Init, f.Client.State);

        int sent = f.Out.Sent.Count;
        f.RunUntil(TimeSpan.FromSeconds(9));
        Assert.Equal(sent, f.Out.Sent.Count);
        f.RunUntil(TimeSpan.FromSeconds(10));
        Assert.Equal(DhcpMessageType.Discover, f.Out.Last.MessageType);
        Assert.Equal(DhcpState.Selecting, f.Client.State);
    }
}
