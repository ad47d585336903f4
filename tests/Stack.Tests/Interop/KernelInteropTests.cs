using Apps.Stack.Netif;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Interop;

/// <summary>
/// Our stack against the Linux kernel over a TAP device in a namespace each test creates and deletes.
/// Real time (TimeProvider.System): these are interop tests, and they assert outcomes, not timings.
/// </summary>
public class KernelInteropTests
{
    private const string KernelAddress = "10.77.0.1";
    private const string OurAddress = "10.77.0.2";

    private static NetworkStack CreateStack(INetworkInterface netif, Ipv4Settings? address = null, bool dhcp = false) =>
        new(netif, new NetworkStackOptions { Name = "interop", Address = address, UseDhcp = dhcp });

    [Fact]
    public async Task Linux_ping_reaches_our_stack()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        using var stack = CreateStack(peer.Tap, Ipv4Settings.Parse($"{OurAddress}/24"));

        var r = await peer.ExecAsync($"ping -c 3 -i 0.2 -W 2 {OurAddress}");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("3 received", r.Stdout);
        Assert.Equal(3, stack.Interface.EchoRequestsAnswered);
    }

    [Fact]
    public async Task Our_stack_pings_linux_with_fragmented_echo()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        using var stack = CreateStack(peer.Tap, Ipv4Settings.Parse($"{OurAddress}/24"));

        var small = await stack.PingAsync(Ipv4Address.Parse(KernelAddress), TimeSpan.FromSeconds(5));
        var large = await stack.PingAsync(Ipv4Address.Parse(KernelAddress), TimeSpan.FromSeconds(5), dataLength: 6000);

        Assert.True(small >= TimeSpan.Zero);
        Assert.True(large >= TimeSpan.Zero);
    }

    [Fact]
    public async Task Udp_round_trip_from_linux_to_our_echo_socket()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        using var stack = CreateStack(peer.Tap, Ipv4Settings.Parse($"{OurAddress}/24"));
        using var socket = await stack.OpenUdpAsync(7000);
        var echo = Task.Run(async () =>
        {
            var d = await socket.ReceiveAsync();
            await socket.SendToAsync(System.Text.Encoding.ASCII.GetBytes(System.Text.Encoding.ASCII.GetString(d.Data).ToUpperInvariant()), d.RemoteAddress, d.RemotePort);
            return d;
        });

        // -t 5: after its stdin ends, socat waits up to 5 s for our reply (its default, 0.5 s, is too short
        // on a loaded machine when our reply first has to resolve the peer's address).
        var r = await peer.ExecAsync($"socat -t 5 -T 5 - UDP:{OurAddress}:7000", stdin: "hello from linux\n");

        var received = await echo.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("hello from linux\n", System.Text.Encoding.ASCII.GetString(received.Data));
        Assert.Equal(Ipv4Address.Parse(KernelAddress), received.RemoteAddress);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("HELLO FROM LINUX\n", r.Stdout);
    }

    [Fact]
    public async Task Udp_from_our_stack_reaches_a_linux_socket_and_closed_port_is_reported()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        using var stack = CreateStack(peer.Tap, Ipv4Settings.Parse($"{OurAddress}/24"));
        var listener = peer.StartProcess("socat -u UDP-RECV:9000 STDOUT");
        using var socket = await stack.OpenUdpAsync();
        var payload = new byte[3000]; // larger than the MTU: the kernel reassembles our fragments
        for (int i = 0; i < payload.Length; i++)
            payload[i] = (byte)('a' + i % 26);

        // socat needs a moment to bind; resend until it has printed what it got.
        var output = listener.StandardOutput;
        var read = new char[payload.Length];
        var reading = output.ReadBlockAsync(read, 0, read.Length);
        for (int i = 0; i < 50 && !reading.IsCompleted; i++)
        {
            await socket.SendToAsync(payload, Ipv4Address.Parse(KernelAddress), 9000);
            await Task.WhenAny(reading, Task.Delay(100));
        }
        Assert.True(reading.IsCompleted, "Linux did not receive the datagram");
        Assert.Equal(System.Text.Encoding.ASCII.GetString(payload), new string(read, 0, await reading));

        // Nothing listens on 9001: Linux answers with ICMP port unreachable.
        using var connected = await stack.OpenUdpAsync();
        connected.Connect(Ipv4Address.Parse(KernelAddress), 9001);
        await connected.SendAsync(new byte[] { 1, 2, 3 });
        var e = await Assert.ThrowsAsync<NetworkStackException>(async () => await connected.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("nothing listens on UDP 10.77.0.1:9001", e.Message);
    }

    [Fact]
    public async Task Dhcp_client_gets_a_lease_from_dnsmasq_and_linux_pings_the_leased_address()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        var dir = Directory.CreateTempSubdirectory("apps-stack-dhcp-");
        try
        {
            peer.StartProcess($"dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface={peer.Device} --bind-interfaces " +
                $"--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,10m --dhcp-option=option:router,{KernelAddress} " +
                $"--dhcp-leasefile={dir.FullName}/leases --pid-file={dir.FullName}/pid --dhcp-authoritative");
            var pcapPath = Path.Combine(dir.FullName, "dhcp.pcap");
            // Borrowed: the device must outlive the stack until dnsmasq has read the release.
            using var stack = CreateStack(PcapRecorder.ToFile(new BorrowedInterface(peer.Tap), pcapPath, TimeProvider.System), dhcp: true);

            var settings = await stack.WaitForAddressAsync().WaitAsync(TimeSpan.FromSeconds(30));

            Assert.InRange(settings.Address.Value, Ipv4Address.Parse("10.77.0.50").Value, Ipv4Address.Parse("10.77.0.60").Value);
            Assert.Equal(24, settings.PrefixLength);
            Assert.Equal(Ipv4Address.Parse(KernelAddress), settings.Gateway);
            Assert.Equal(TimeSpan.FromMinutes(10), stack.Lease!.LeaseTime);
            var ping = await peer.ExecAsync($"ping -c 2 -i 0.2 -W 2 {settings.Address}");
            Assert.True(ping.ExitCode == 0, ping.ToString());
            var leases = await File.ReadAllTextAsync(Path.Combine(dir.FullName, "leases"));
            Assert.Contains(stack.MacAddress.ToString(), leases);

            // DisposeAsync releases the lease (RFC 2131 §4.4.6); dnsmasq then drops it from its file.
            await stack.DisposeAsync();
            var leaseFile = Path.Combine(dir.FullName, "leases");
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while ((await File.ReadAllTextAsync(leaseFile)).Contains(stack.MacAddress.ToString()) && !deadline.IsCancellationRequested)
                await Task.Delay(100);
            var tshark = await HostCommand.RunAsync("tshark", $"-r {pcapPath} -Y dhcp -T fields -e dhcp.option.dhcp");
            Assert.True(tshark.ExitCode == 0, tshark.ToString());
            var types = tshark.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.False((await File.ReadAllTextAsync(leaseFile)).Contains(stack.MacAddress.ToString()),
                $"dnsmasq still holds the lease 30 s after the release; DHCP message types in the pcap: {string.Join(",", types)}");
            // DISCOVER, OFFER, REQUEST, ACK, then RELEASE, in that order as tshark decodes them (a DISCOVER
            // sent before dnsmasq was ready may be repeated).
            int next = 0;
            string[] expected = ["1", "2", "3", "5", "7"];
            foreach (var t in types)
                if (next < expected.Length && t == expected[next])
                    next++;
            Assert.True(next == expected.Length, $"message types seen: {string.Join(",", types)}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Pcap_of_a_ping_run_opens_in_tshark()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        var path = Path.Combine(Path.GetTempPath(), $"apps-stack-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var stack = CreateStack(PcapRecorder.ToFile(peer.Tap, path, TimeProvider.System), Ipv4Settings.Parse($"{OurAddress}/24")))
            {
                var r = await peer.ExecAsync($"ping -c 2 -i 0.2 -W 2 {OurAddress}");
                Assert.True(r.ExitCode == 0, r.ToString());
                await stack.PingAsync(Ipv4Address.Parse(KernelAddress), TimeSpan.FromSeconds(5));
            }

            var tshark = await HostCommand.RunAsync("tshark", $"-r {path}");

            Assert.True(tshark.ExitCode == 0, tshark.ToString());
            Assert.Contains("ARP", tshark.Stdout);
            Assert.Contains("Echo (ping) request", tshark.Stdout);
            Assert.Contains("Echo (ping) reply", tshark.Stdout);
            Assert.DoesNotContain("Malformed", tshark.Stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Jumbo_mtu_set_on_the_tap_carries_large_pings_unfragmented()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24", mtu: 9000);
        using var stack = CreateStack(peer.Tap, Ipv4Settings.Parse($"{OurAddress}/24"));

        var link = await peer.ExecAsync($"ip link show dev {peer.Device}");
        Assert.Contains("mtu 9000", link.Stdout);
        // -M do: the kernel sets DF and refuses to fragment; 8000 bytes of data fit in one 9000-byte packet.
        var r = await peer.ExecAsync($"ping -c 2 -i 0.2 -W 2 -M do -s 8000 {OurAddress}");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(9000, stack.Mtu);
    }

    [Fact]
    public void Tap_name_longer_than_ifnamsiz_is_refused_with_advice()
    {
        var e = Assert.Throws<ArgumentException>(() => TapInterface.Open("a-name-far-too-long-for-linux"));
        Assert.Contains("shorter name", e.Message);
    }

    // A stack reads its TAP device on its own loop (FrameSource); a device used on its own is started with
    // a reader thread instead, and pushes what Linux sends.
    [Fact]
    public async Task Tap_device_started_with_a_reader_thread_delivers_what_linux_sends()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        var arpRequests = 0;
        peer.Tap.Start((ReadOnlySpan<byte> frame, in FrameOffload _) =>
        {
            if (EthernetHeader.TryParse(frame, out var ethernet) && ethernet.EtherType == (ushort)EtherType.Arp)
                Interlocked.Increment(ref arpRequests);
        });
        Assert.Throws<InvalidOperationException>(() => peer.Tap.FrameSource.TryReceive((ReadOnlySpan<byte> _, in FrameOffload _) => { }));

        // Nobody answers: Linux asks for the address again and again, and ping gives up.
        await peer.ExecAsync($"ping -c 1 -W 2 {OurAddress}");

        Assert.True(Volatile.Read(ref arpRequests) >= 1);
    }

    [Fact]
    public async Task Device_deleted_under_the_stack_stops_the_reader_with_a_reason()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        using var stack = CreateStack(peer.Tap, Ipv4Settings.Parse($"{OurAddress}/24"));

        await HostCommand.CheckAsync("ip", $"netns del {peer.Namespace}"); // takes the TAP device with it
        for (int i = 0; i < 100 && peer.Tap.ReadError is null; i++)
            await Task.Delay(50);

        Assert.NotNull(peer.Tap.ReadError);
    }
}
