using Apps.Stack.Netif;
using Apps.Stack.Tests.Interop;
using Apps.Stack.Tests.Wire;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Netif;

public class PcapRecorderTests
{
    [Fact]
    public void File_has_the_libpcap_header_and_one_record_per_frame()
    {
        using var net = new SimulatedNetwork();
        var output = new MemoryStream();
        var port = net.Switch.CreatePort();
        using var recorder = new PcapRecorder(port, output, net.Time, ownsStream: false);
        recorder.Start((ReadOnlySpan<byte> _, in FrameOffload _) => { });
        net.Time.Advance(TimeSpan.FromSeconds(1.5));

        recorder.Transmit(Captures.ArpRequest);
        recorder.Flush();

        var bytes = output.ToArray();
        Assert.Equal(24 + 16 + Captures.ArpRequest.Length, bytes.Length);
        Assert.Equal(0xA1B2C3D4u, BitConverter.ToUInt32(bytes, 0));
        Assert.Equal(1u, BitConverter.ToUInt32(bytes, 20)); // LINKTYPE_ETHERNET
        var expectedSeconds = (uint)(net.Time.GetUtcNow().ToUnixTimeSeconds());
        Assert.Equal(expectedSeconds, BitConverter.ToUInt32(bytes, 24));
        Assert.Equal(500_000u, BitConverter.ToUInt32(bytes, 28));
        Assert.Equal((uint)Captures.ArpRequest.Length, BitConverter.ToUInt32(bytes, 32));
        Assert.Equal(Captures.ArpRequest, bytes[40..]);
        Assert.Equal(1, recorder.FramesRecorded);
    }

    // Wireshark's dissectors, with checksum validation on, find nothing wrong in what we send:
    // ARP, fragmented ICMP echo and replies, UDP, ICMP port unreachable.
    [Fact]
    public async Task Tshark_finds_no_malformed_packet_or_bad_checksum_in_our_traffic()
    {
        var path = Path.Combine(Path.GetTempPath(), $"apps-stack-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var net = new SimulatedNetwork())
            {
                var a = net.AddStack("10.0.0.1/24", netif: PcapRecorder.ToFile(net.Switch.CreatePort(), path, net.Time));
                net.AddStack("10.0.0.2/24");
                var b = Ipv4Address.Parse("10.0.0.2");
                await net.RunAsync(a.PingAsync(b, TimeSpan.FromSeconds(1)));
                await net.RunAsync(a.PingAsync(b, TimeSpan.FromSeconds(1), dataLength: 5000));
                using var socket = await net.RunAsync(a.OpenUdpAsync(4000));
                await net.RunAsync(socket.SendToAsync(new byte[3000], b, 9)); // port unreachable comes back
                await net.AdvanceAsync(TimeSpan.FromMilliseconds(50));
            }

            var summary = await HostCommand.RunAsync("tshark",
                $"-r {path} -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -z expert,warn -q");
            var packets = await HostCommand.RunAsync("tshark", $"-r {path} -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE");

            Assert.True(summary.ExitCode == 0, summary.ToString());
            Assert.DoesNotContain("Malformed", packets.Stdout);
            Assert.DoesNotContain("incorrect", summary.Stdout, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Bad checksum", summary.Stdout, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("Echo (ping) reply", packets.Stdout);
            Assert.Contains("Destination unreachable (Port unreachable)", packets.Stdout);
            Assert.Contains("Fragmented IP protocol", packets.Stdout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Frames_the_stack_reads_through_the_wrapped_links_source_are_recorded()
    {
        var inner = new SourceLink();
        var output = new MemoryStream();
        using var recorder = new PcapRecorder(inner, output, TimeProvider.System, ownsStream: false);
        var source = Assert.IsAssignableFrom<IFrameSource>(recorder.FrameSource);
        var got = new List<byte[]>();
        FrameReceiver receiver = (ReadOnlySpan<byte> frame, in FrameOffload _) => got.Add(frame.ToArray());

        inner.Frames.Enqueue(Captures.ArpRequest);
        inner.Frames.Enqueue(Captures.ArpRequest[..30]);
        Assert.Equal(Captures.ArpRequest.Length, source.TryReceive(receiver));
        Assert.Equal(30, source.TryReceive(receiver));
        Assert.Equal(0, source.TryReceive(receiver));
        source.Interrupt();
        recorder.Flush();

        Assert.Equal([Captures.ArpRequest, Captures.ArpRequest[..30]], got);
        Assert.Equal(2, recorder.FramesRecorded);
        Assert.Equal(24 + 2 * 16 + Captures.ArpRequest.Length + 30, output.Length);
        Assert.Equal(1, inner.Interrupts);
        Assert.Null(new PcapRecorder(new SourceLink(withSource: false), new MemoryStream(), TimeProvider.System).FrameSource);
    }

    [Fact]
    public void A_frame_sent_in_two_parts_is_recorded_whole_and_passed_on_in_two_parts()
    {
        var inner = new SourceLink();
        var output = new MemoryStream();
        using var recorder = new PcapRecorder(inner, output, TimeProvider.System, ownsStream: false);
        var frame = Captures.ArpRequest;

        recorder.Transmit(frame[..14], frame[14..], default);
        recorder.Flush();

        Assert.Equal(frame, output.ToArray()[(24 + 16)..]);
        var (headers, payload) = Assert.Single(inner.Gathered);
        Assert.Equal(frame[..14], headers);
        Assert.Equal(frame[14..], payload);
    }

    [Fact]
    public void A_link_that_does_not_gather_gets_the_two_parts_joined()
    {
        using var net = new SimulatedNetwork();
        INetworkInterface a = net.Switch.CreatePort();
        var b = net.Switch.CreatePort();
        var got = new List<byte[]>();
        b.Start((ReadOnlySpan<byte> frame, in FrameOffload _) => got.Add(frame.ToArray()));
        a.Start((ReadOnlySpan<byte> _, in FrameOffload _) => { });
        var frame = Captures.ArpRequest;

        a.Transmit(frame[..14], frame[14..], default);
        net.Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(frame, Assert.Single(got));
    }

    private sealed class SourceLink(bool withSource = true) : INetworkInterface, IFrameSource
    {
        public Queue<byte[]> Frames { get; } = new();
        public int Interrupts { get; private set; }
        public int Mtu => 1500;
        public IFrameSource? FrameSource => withSource ? this : null;
        public void Start(FrameReceiver receiver) => throw new InvalidOperationException("read through the source");
        public List<(byte[] Headers, byte[] Payload)> Gathered { get; } = [];
        public void Transmit(ReadOnlySpan<byte> frame) { }
        public void Transmit(ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload, in FrameOffload offload) =>
            Gathered.Add((headers.ToArray(), payload.ToArray()));
        public void Dispose() { }

        public int TryReceive(FrameReceiver receiver)
        {
            if (!Frames.TryDequeue(out var frame))
                return 0;
            receiver(frame, default);
            return frame.Length;
        }

        public void Wait() { }
        public void Interrupt() => Interrupts++;
    }
}
