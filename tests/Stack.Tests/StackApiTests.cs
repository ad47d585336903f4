using System.Diagnostics.Metrics;
using Apps.Stack.Ip;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests;

public class StackApiTests
{
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    [Fact]
    public async Task Arrival_timestamps_are_offered_to_the_entropy_callback()
    {
        using var net = new SimulatedNetwork();
        var events = new List<byte[]>();
        var netif = net.Switch.CreatePort();
        using var a = new NetworkStack(netif, new NetworkStackOptions
        {
            Address = Ipv4Settings.Parse("10.0.0.1/24"),
            TimeProvider = net.Time,
            Entropy = e => { lock (events) events.Add(e.ToArray()); },
        });
        var b = net.AddStack("10.0.0.2/24");
        net.Time.Advance(TimeSpan.FromMilliseconds(3));

        await net.RunAsync(b.PingAsync(Ipv4Address.Parse("10.0.0.1"), TimeSpan.FromSeconds(1)));
        a.Loop.WaitIdle(TimeSpan.FromSeconds(5));

        lock (events)
        {
            Assert.True(events.Count >= 2);
            Assert.All(events, e => Assert.Equal(8, e.Length));
            Assert.Equal(a.Counters.PacketsIn, events.Count);
        }
    }

    [Fact]
    public async Task Counters_are_published_on_the_apps_stack_meter()
    {
        long packetsIn = 0, drops = 0;
        var reasons = new HashSet<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == StackCounters.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "apps.stack.packets.in")
                Interlocked.Add(ref packetsIn, value);
            if (instrument.Name == "apps.stack.drops")
            {
                Interlocked.Add(ref drops, value);
                foreach (var tag in tags)
                    lock (reasons)
                        reasons.Add($"{tag.Key}={tag.Value}");
            }
        });
        listener.Start();

        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24");
        using var socket = await net.RunAsync(a.OpenUdpAsync());
        await net.RunAsync(socket.SendToAsync(new byte[10], B, 9)); // nobody listens: NoListener at b

        Assert.True(Interlocked.Read(ref packetsIn) >= b.Counters.PacketsIn);
        Assert.True(Interlocked.Read(ref drops) >= 1);
        lock (reasons)
            Assert.Contains("reason=NoListener", reasons);
    }

    private sealed class FakeTcp : ITcpTransport
    {
        public IIpv4Output? Output;
        public readonly List<(Ipv4Address Source, Ipv4Address Destination, byte[] Segment)> Segments = [];
        public TimeSpan Deadline = TimeSpan.MaxValue;
        public readonly List<TimeSpan> Polls = [];
        public readonly List<byte> UnreachableCodes = [];

        public void Attach(IIpv4Output output) => Output = output;
        public void OnSegment(Ipv4Address source, Ipv4Address destination, ReadOnlySpan<byte> segment, TimeSpan now) => Segments.Add((source, destination, segment.ToArray()));
        public void OnDestinationUnreachable(Ipv4Address localAddress, Ipv4Address remoteAddress, byte code, ReadOnlySpan<byte> quoted, TimeSpan now) => UnreachableCodes.Add(code);
        public void Poll(TimeSpan now)
        {
            Polls.Add(now);
            Deadline = TimeSpan.MaxValue;
        }
        public TimeSpan NextDeadline => Deadline;
    }

    // A minimal TCP-shaped segment: 20-byte header with ports and data offset, checksum filled in.
    private static byte[] Segment(Ipv4Address src, Ipv4Address dst, ReadOnlySpan<byte> data)
    {
        var s = new byte[20 + data.Length];
        s[0] = 0x30; s[1] = 0x39; s[2] = 0x00; s[3] = 0x50; s[12] = 0x50;
        data.CopyTo(s.AsSpan(20));
        uint sum = InternetChecksum.PseudoHeader(src, dst, IpProtocol.Tcp, (ushort)s.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(s.AsSpan(16), InternetChecksum.Fold(InternetChecksum.Accumulate(sum, s)));
        return s;
    }

    [Fact]
    public async Task Tcp_hook_receives_verified_segments_sends_through_ip_and_is_polled_at_its_deadline()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24");
        var tcpA = new FakeTcp();
        var tcpB = new FakeTcp();
        await net.RunAsync(a.AttachTcpAsync(tcpA));
        await net.RunAsync(b.AttachTcpAsync(tcpB));
        Assert.Equal(Ipv4Address.Parse("10.0.0.1"), tcpA.Output!.LocalAddress);
        Assert.Equal(1500, tcpA.Output.Mtu);

        var src = Ipv4Address.Parse("10.0.0.1");
        var good = Segment(src, B, "data"u8);
        var bad = (byte[])good.Clone();
        bad[^1] ^= 1;
        await net.RunAsync(a.Loop.InvokeAsync(now => tcpA.Output.Send(B, IpProtocol.Tcp, good, now)));
        await net.RunAsync(a.Loop.InvokeAsync(now => tcpA.Output.Send(B, IpProtocol.Tcp, bad, now)));
        await net.RunAsync(a.Loop.InvokeAsync(now => tcpA.Output.Send(B, IpProtocol.Tcp, Segment(src, B, new byte[4000]), now)));

        Assert.Equal(2, tcpB.Segments.Count);
        Assert.Equal((src, B), (tcpB.Segments[0].Source, tcpB.Segments[0].Destination));
        Assert.Equal(good, tcpB.Segments[0].Segment);
        Assert.Equal(4020, tcpB.Segments[1].Segment.Length); // fragmented and reassembled
        Assert.Equal(1, b.Counters.Drops(DropReason.BadChecksum));

        // The loop polls TCP when its deadline comes, in virtual time.
        await net.RunAsync(b.Loop.InvokeAsync(now => tcpB.Deadline = now + TimeSpan.FromMilliseconds(200)));
        var armedAt = b.Loop.Now;
        await net.AdvanceAsync(TimeSpan.FromMilliseconds(300));
        Assert.Equal(armedAt + TimeSpan.FromMilliseconds(200), Assert.Single(tcpB.Polls));
    }

    [Fact]
    public async Task Without_tcp_a_segment_gets_protocol_unreachable()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24");
        var tcpA = new FakeTcp();
        await net.RunAsync(a.AttachTcpAsync(tcpA));

        await net.RunAsync(a.Loop.InvokeAsync(now => tcpA.Output!.Send(B, IpProtocol.Tcp, Segment(Ipv4Address.Parse("10.0.0.1"), B, []), now)));

        Assert.Equal(1, b.Counters.Drops(DropReason.Unsupported));
        Assert.Equal([IcmpV4UnreachableCode.Protocol], tcpA.UnreachableCodes);
    }

    [Fact]
    public async Task Static_address_is_available_at_once_and_dhcp_waits()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var settings = await net.RunAsync(a.WaitForAddressAsync());
        Assert.Equal(Ipv4Settings.Parse("10.0.0.1/24"), settings);

        var b = net.AddStack(null, dhcp: true);
        var waiting = b.WaitForAddressAsync();
        await net.AdvanceAsync(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(1));
        Assert.False(waiting.IsCompleted); // no DHCP server on this switch
        Assert.Equal(Apps.Stack.Dhcp.DhcpState.Selecting, b.DhcpState);
    }

    [Fact]
    public async Task Disposing_the_stack_fails_waiting_operations_instead_of_leaving_them_hanging()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack(null);
        var waiting = a.WaitForAddressAsync();
        await net.SettleAsync();

        a.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
    }
}
