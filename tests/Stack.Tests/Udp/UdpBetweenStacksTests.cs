using System.Security.Cryptography;
using Apps.Stack.Netif;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Udp;

public class UdpBetweenStacksTests
{
    private static readonly Ipv4Address A = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    // A datagram that proves its own integrity: 4-byte sequence, data, SHA-256 of both.
    private static byte[] Datagram(int sequence, int length)
    {
        var d = new byte[4 + length + 32];
        BitConverter.TryWriteBytes(d, sequence);
        new Random(sequence).NextBytes(d.AsSpan(4, length));
        SHA256.HashData(d.AsSpan(0, 4 + length), d.AsSpan(4 + length));
        return d;
    }

    private static int Verify(byte[] d)
    {
        Assert.Equal(d.AsSpan(d.Length - 32).ToArray(), SHA256.HashData(d.AsSpan(0, d.Length - 32)));
        return BitConverter.ToInt32(d);
    }

    [Fact]
    public async Task Datagrams_of_every_size_arrive_intact_and_in_order_on_a_clean_link()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24");
        using var sender = await net.RunAsync(a.OpenUdpAsync(4000));
        using var receiver = await net.RunAsync(b.OpenUdpAsync(5000));

        int[] sizes = [0, 1, 100, 1435, 1436, 1437, 3000, 9000, 30000, UdpHeader.MaxPayload - 36];
        for (int i = 0; i < sizes.Length; i++)
            await net.RunAsync(sender.SendToAsync(Datagram(i, sizes[i]), B, 5000));
        for (int i = 0; i < sizes.Length; i++)
        {
            var r = await net.RunAsync(receiver.ReceiveAsync().AsTask());
            Assert.Equal(i, Verify(r.Data));
            Assert.Equal((A, (ushort)4000), (r.RemoteAddress, r.RemotePort));
        }
        Assert.Equal(0, b.Counters.TotalDrops);
    }

    [Fact]
    public async Task Echo_exchange_both_ways_over_a_lossy_reordering_duplicating_link()
    {
        using var net = new SimulatedNetwork(seed: 7);
        var bad = new LinkImpairments
        {
            Loss = 0.05, Duplication = 0.1, Reordering = 0.2, Delay = TimeSpan.FromMilliseconds(2),
            ReorderDelay = TimeSpan.FromMilliseconds(3), BitsPerSecond = 100_000_000,
        };
        var a = net.AddStack("10.0.0.1/24", bad);
        var b = net.AddStack("10.0.0.2/24", bad);
        using var client = await net.RunAsync(a.OpenUdpAsync());
        using var server = await net.RunAsync(b.OpenUdpAsync(7));

        // Resolve ARP first: 100 datagrams queued behind an unresolved neighbour would overflow its
        // bounded queue (ArpCache.MaxPendingPackets), which is a different test.
        for (int attempt = 0; attempt < 10; attempt++)
        {
            try
            {
                await net.RunAsync(a.PingAsync(B, TimeSpan.FromSeconds(4)), TimeSpan.FromMilliseconds(20));
                break;
            }
            catch (TimeoutException)
            {
                // The echo itself was lost; try again.
            }
        }

        var seen = new HashSet<int>();
        int echoed = 0;
        for (int i = 0; i < 100; i++)
            await net.RunAsync(client.SendToAsync(Datagram(i, 200 + i * 37), B, 7));
        await net.AdvanceAsync(TimeSpan.FromSeconds(3));

        // Server echoes what it got (duplicates included), client checks every echo.
        while (server.ReceiveAsync() is { IsCompleted: true } pending)
        {
            var d = await pending;
            Verify(d.Data);
            await net.RunAsync(server.SendToAsync(d.Data, d.RemoteAddress, d.RemotePort));
            echoed++;
        }
        await net.AdvanceAsync(TimeSpan.FromSeconds(3));
        while (client.ReceiveAsync() is { IsCompleted: true } pending)
            seen.Add(Verify((await pending).Data));

        Assert.InRange(echoed, 50, 150);
        Assert.InRange(seen.Count, 30, 100);
        Assert.True(net.Switch.Dropped > 0);
    }

    [Fact]
    public async Task Connected_socket_reports_port_unreachable_from_the_peer_stack()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        net.AddStack("10.0.0.2/24");
        using var socket = await net.RunAsync(a.OpenUdpAsync());
        socket.Connect(B, 9);

        await net.RunAsync(socket.SendAsync(new byte[] { 1 }));
        var e = await Assert.ThrowsAsync<NetworkStackException>(() => net.RunAsync(socket.ReceiveAsync().AsTask()));

        Assert.Equal(DropReason.NoListener, e.Reason);
    }

    [Fact]
    public async Task Opening_a_port_twice_fails_with_a_clear_message()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        using var first = await net.RunAsync(a.OpenUdpAsync(53));
        var e = await Assert.ThrowsAsync<NetworkStackException>(() => net.RunAsync(a.OpenUdpAsync(53)));
        Assert.Contains("already in use", e.Message);
    }

    [Fact]
    public async Task Link_mtu_smaller_than_frames_drops_them_at_the_switch()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24", new LinkImpairments { Mtu = 576 });
        using var receiver = await net.RunAsync(b.OpenUdpAsync(5000));
        using var sender = await net.RunAsync(a.OpenUdpAsync());

        await net.RunAsync(sender.SendToAsync(new byte[100], B, 5000));
        await net.RunAsync(sender.SendToAsync(new byte[1400], B, 5000));
        await net.AdvanceAsync(TimeSpan.FromMilliseconds(100));

        Assert.Equal(100, (await receiver.ReceiveAsync()).Data.Length);
        Assert.False(receiver.ReceiveAsync().IsCompleted);
        Assert.True(net.Switch.Dropped >= 1);
    }

    [Fact]
    public async Task Udp_over_dhcp_configured_stacks_is_refused_before_an_address()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack(null);
        using var socket = await net.RunAsync(a.OpenUdpAsync());
        var e = await Assert.ThrowsAsync<NetworkStackException>(() => net.RunAsync(socket.SendToAsync(new byte[1], B, 1)));
        Assert.Equal(DropReason.NoRoute, e.Reason);
    }

    [Fact]
    public async Task Sockets_used_from_many_threads_at_once_lose_nothing_on_a_clean_link()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24");
        using var receiver = await net.RunAsync(b.OpenUdpAsync(5000));
        await net.RunAsync(a.PingAsync(B, TimeSpan.FromSeconds(1))); // resolve ARP first

        var senders = await net.RunAsync(Task.WhenAll(Enumerable.Range(0, 8).Select(_ => a.OpenUdpAsync())));
        var sending = Task.WhenAll(senders.Select((socket, t) => Task.Run(async () =>
        {
            for (int i = 0; i < 25; i++)
                await socket.SendToAsync(Datagram(t * 1000 + i, 100), B, 5000);
        })));
        await net.RunAsync(sending);

        var seen = new HashSet<int>();
        while (receiver.ReceiveAsync() is { IsCompleted: true } pending)
            seen.Add(Verify((await pending).Data));
        Assert.Equal(200, seen.Count);
        foreach (var s in senders)
            s.Dispose();
    }

    [Fact]
    public async Task Disposing_a_socket_ends_a_pending_receive_and_frees_the_port()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var socket = await net.RunAsync(a.OpenUdpAsync(5000));
        var pending = socket.ReceiveAsync().AsTask();

        socket.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending);
        using var again = await net.RunAsync(a.OpenUdpAsync(5000));
        Assert.Equal(5000, again.LocalPort);
    }

    [Fact]
    public async Task Connected_socket_learns_the_host_is_unreachable_when_arp_gets_no_answer()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        using var socket = await net.RunAsync(a.OpenUdpAsync());
        socket.Connect(Ipv4Address.Parse("10.0.0.99"), 9);

        await net.RunAsync(socket.SendAsync(new byte[] { 1 }));
        var e = await Assert.ThrowsAsync<NetworkStackException>(() => net.RunAsync(socket.ReceiveAsync().AsTask(), TimeSpan.FromMilliseconds(100)));

        Assert.Equal(DropReason.Unresolved, e.Reason);
        Assert.Contains("host 10.0.0.99 is unreachable", e.Message);
        Assert.Equal(1, a.Counters.Drops(DropReason.Unresolved));
    }
}
