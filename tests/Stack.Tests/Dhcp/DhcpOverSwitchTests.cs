using Apps.Stack.Udp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Dhcp;

/// <summary>
/// The stack's DHCP client against a small scripted server running on another of our stacks, in
/// virtual time: acquisition, unicast renewal at T1 through the IP layer, and expiry.
/// </summary>
public class DhcpOverSwitchTests
{
    private static readonly Ipv4Address ServerAddress = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Leased = Ipv4Address.Parse("10.0.0.50");

    private sealed class ScriptedServer(UdpSocket socket)
    {
        public List<(DhcpMessage Message, Ipv4Address From)> Received { get; } = [];
        public bool Answer { get; set; } = true;

        public async Task RunAsync()
        {
            while (true)
            {
                UdpReceiveResult d;
                try
                {
                    d = await socket.ReceiveAsync();
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                if (!DhcpMessage.TryParse(d.Data, out var m, out _))
                    continue;
                lock (Received)
                    Received.Add((m, d.RemoteAddress));
                if (!Answer)
                    continue;
                var type = m.MessageType == DhcpMessageType.Discover ? DhcpMessageType.Offer : DhcpMessageType.Ack;
                var reply = new DhcpMessage
                {
                    Op = 2, TransactionId = m.TransactionId, ClientHardware = m.ClientHardware, YourAddress = Leased,
                    MessageType = type, ServerIdentifier = ServerAddress, LeaseSeconds = 60,
                    SubnetMask = Ipv4Address.Parse("255.255.255.0"), Router = ServerAddress,
                };
                // RFC 2131 §4.1: unicast to ciaddr when the client has one, else broadcast.
                var to = m.ClientAddress.IsAny ? Ipv4Address.Broadcast : m.ClientAddress;
                await socket.SendToAsync(reply.ToArray(), to, NetworkStack.DhcpClientPort);
            }
        }
    }

    [Fact]
    public async Task Client_acquires_renews_by_unicast_and_loses_the_address_when_the_server_goes_quiet()
    {
        using var net = new SimulatedNetwork();
        var serverStack = net.AddStack("10.0.0.1/24");
        using var socket = await net.RunAsync(serverStack.OpenUdpAsync(NetworkStack.DhcpServerPort));
        var server = new ScriptedServer(socket);
        var serving = server.RunAsync();
        var client = net.AddStack(null, dhcp: true);

        var settings = await net.RunAsync(client.WaitForAddressAsync(), TimeSpan.FromMilliseconds(100));
        Assert.Equal(new Ipv4Settings(Leased, 24, ServerAddress), settings);
        Assert.Equal(TimeSpan.FromSeconds(60), client.Lease!.LeaseTime);

        // T1 = 30 s: a unicast REQUEST from the leased address, answered, and the lease runs on.
        await net.AdvanceAsync(TimeSpan.FromSeconds(40), TimeSpan.FromMilliseconds(500));
        lock (server.Received)
        {
            var renew = server.Received[^1];
            Assert.Equal(DhcpMessageType.Request, renew.Message.MessageType);
            Assert.Equal(Leased, renew.From);
            Assert.Equal(Leased, renew.Message.ClientAddress);
        }
        Assert.Equal(Apps.Stack.Dhcp.DhcpState.Bound, client.DhcpState);

        // The server stops answering: renew, rebind, and at expiry the address goes away.
        server.Answer = false;
        await net.AdvanceAsync(TimeSpan.FromSeconds(70), TimeSpan.FromMilliseconds(500));
        Assert.Null(client.Address);
        Assert.Equal(Apps.Stack.Dhcp.DhcpState.Selecting, client.DhcpState);
        lock (server.Received)
            Assert.Contains(server.Received, r => r.Message.MessageType == DhcpMessageType.Request && r.From == Leased && !r.Message.ClientAddress.IsAny);

        socket.Dispose();
        await serving;
    }

    [Fact]
    public async Task Client_declines_an_address_another_host_already_uses()
    {
        using var net = new SimulatedNetwork();
        var serverStack = net.AddStack("10.0.0.1/24");
        net.AddStack("10.0.0.50/24"); // squats on the address the server hands out
        using var socket = await net.RunAsync(serverStack.OpenUdpAsync(NetworkStack.DhcpServerPort));
        var server = new ScriptedServer(socket);
        var serving = server.RunAsync();
        var client = net.AddStack(null, dhcp: true);

        await net.AdvanceAsync(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100));

        Assert.Null(client.Address);
        lock (server.Received)
            Assert.Contains(server.Received, r => r.Message.MessageType == DhcpMessageType.Decline && r.Message.RequestedAddress == Leased);
        socket.Dispose();
        await serving;
    }

    [Fact]
    public async Task Disposing_asynchronously_releases_the_lease()
    {
        using var net = new SimulatedNetwork();
        var serverStack = net.AddStack("10.0.0.1/24");
        using var socket = await net.RunAsync(serverStack.OpenUdpAsync(NetworkStack.DhcpServerPort));
        var server = new ScriptedServer(socket);
        var serving = server.RunAsync();
        var client = net.AddStack(null, dhcp: true);
        await net.RunAsync(client.WaitForAddressAsync(), TimeSpan.FromMilliseconds(100));

        await net.RunAsync(client.DisposeAsync().AsTask(), TimeSpan.FromMilliseconds(5));
        await net.AdvanceAsync(TimeSpan.FromMilliseconds(100));

        lock (server.Received)
        {
            var release = server.Received[^1];
            Assert.Equal(DhcpMessageType.Release, release.Message.MessageType);
            Assert.Equal(Leased, release.Message.ClientAddress);
            Assert.Equal(Leased, release.From);
        }
        socket.Dispose();
        await serving;
    }
}
