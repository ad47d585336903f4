using System.Security.Cryptography;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// TCP over a link with segmentation offload (TSO/GSO, <see cref="TcpSettings.SegmentOffloadSize"/>):
/// new data leaves in bursts of whole MSS, segments of several MSS are taken in and acknowledged, and a
/// loss inside a burst is repaired one MSS at a time. Virtual time throughout.
/// </summary>
public class SegmentationOffloadTests
{
    private const ushort Port = 8080;
    private static readonly TcpSettings Offloading = TcpHarness.Plain with { SegmentOffloadSize = 8000 };

    [Fact]
    public void New_data_leaves_in_one_burst_of_whole_segments()
    {
        var h = TcpHarness.Established(Offloading);
        Assert.Equal(9000, h.Tcb.Send(TcpHarness.Bytes(9000)));

        var sent = h.Poll();

        // Peer window 8000 and MSS 1000: one 8000-byte burst; the rest waits for the window.
        var burst = Assert.Single(sent);
        Assert.Equal(8000, burst.Payload.Length);
        Assert.Equal(TcpHarness.LocalIss + 1, burst.Seq);
        Assert.Equal(TcpHarness.Bytes(9000)[..8000], burst.Payload);
    }

    [Fact]
    public void A_burst_cut_short_by_the_window_ends_on_a_segment_boundary()
    {
        var h = TcpHarness.Established(Offloading);
        h.Deliver(h.Segment(window: 7500));
        h.Tcb.Send(TcpHarness.Bytes(10000));

        var sent = h.Poll();

        Assert.Equal(7000, sent[0].Payload.Length); // not 7500: the short tail would be a runt segment
        Assert.All(sent, s => Assert.True(s.Payload.Length <= 8000));
    }

    [Fact]
    public void A_short_tail_goes_out_in_the_burst_when_it_is_all_that_is_queued()
    {
        var h = TcpHarness.Established(Offloading);
        h.Tcb.Send(TcpHarness.Bytes(5500));

        var burst = Assert.Single(h.Poll());

        Assert.Equal(5500, burst.Payload.Length);
        Assert.True(burst.Flags.HasFlag(TcpFlags.Psh));
    }

    [Fact]
    public void Without_offload_no_segment_exceeds_one_mss()
    {
        var h = TcpHarness.Established();
        h.Tcb.Send(TcpHarness.Bytes(8000));

        var sent = h.Poll();

        Assert.Equal(8, sent.Count);
        Assert.All(sent, s => Assert.Equal(1000, s.Payload.Length));
    }

    [Fact]
    public void A_segment_of_several_mss_in_order_is_taken_whole_and_acknowledged_at_once()
    {
        var h = TcpHarness.Established();
        var data = TcpHarness.Bytes(5000, seed: 9);

        var replies = h.Deliver(h.Segment(TcpFlags.Ack | TcpFlags.Psh), data);

        // Five segments' worth: past the every-second-segment rule, so no delayed ACK.
        var ack = Assert.Single(replies);
        Assert.Equal(TcpHarness.RemoteIss + 1 + 5000, ack.Ack);
        var read = new byte[8000];
        Assert.Equal(5000, h.Tcb.Read(read));
        Assert.Equal(data, read[..5000]);
    }

    [Fact]
    public void A_single_mss_segment_still_waits_for_the_delayed_ack()
    {
        var h = TcpHarness.Established();

        var replies = h.Deliver(h.Segment(TcpFlags.Ack | TcpFlags.Psh), TcpHarness.Bytes(1000));

        Assert.Empty(replies);
        Assert.NotNull(h.Tcb.PollAt);
    }

    [Fact]
    public void Loss_inside_a_burst_is_resent_one_segment_at_a_time()
    {
        var h = TcpHarness.Established(Offloading);
        h.Tcb.Send(TcpHarness.Bytes(8000));
        var burst = Assert.Single(h.Poll());
        Assert.Equal(8000, burst.Payload.Length);

        // The link cut the burst into eight segments and the first was lost: the peer's three duplicate
        // ACKs for the next ones start fast retransmit (RFC 5681 §3.2) of that segment only.
        var una = TcpHarness.LocalIss + 1;
        var resent = new List<SentSegment>();
        for (int i = 0; i < 3; i++)
            resent.AddRange(h.Deliver(h.Segment(ack: una)));

        var retransmission = Assert.Single(resent, s => s.Payload.Length > 0);
        Assert.Equal(una, retransmission.Seq);
        Assert.Equal(1000, retransmission.Payload.Length);
        Assert.Equal(TcpHarness.Bytes(8000)[..1000], retransmission.Payload);

        // The segment repaired, the peer acknowledges the whole burst.
        h.Deliver(h.Segment(ack: una + 8000));
        Assert.Equal(una + 8000, h.Tcb.SndUna.Value);
    }

    [Theory]
    [InlineData(31, true)]
    [InlineData(32, true)]
    [InlineData(33, false)]
    public void Transfer_with_loss_inside_bursts_arrives_intact_and_resends_in_mss_units(int seed, bool cut)
    {
        var settings = new TcpSettings { MinRto = TimeSpan.FromMilliseconds(200), SegmentOffloadSize = TcpSettings.MaxOffloadedSegment };
        var net = new TcpLinkSimulator(seed, settings) { Loss = 0.02, Reordering = 0.02, CutLargeSegments = cut };
        var (data, received, done) = Transfer(net, 3_000_000, seed);

        Assert.True(done, $"stalled at {received.Length} of {data.Length}");
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
        Assert.True(net.LargeSegments > 0, "no burst was sent");
        Assert.True(net.Dropped > 0 && net.A.Counters.Retransmissions > 0);
        int mss = 1460 - 12; // timestamps
        Assert.True(net.LongestResend <= mss, $"a resend carried {net.LongestResend} bytes");
        if (!cut)
            Assert.True(net.LongestSegment > mss, "no segment of several MSS was delivered whole");
    }

    [Fact]
    public void Clean_transfer_over_a_segmenting_link_needs_no_retransmission()
    {
        var settings = new TcpSettings { SegmentOffloadSize = TcpSettings.MaxOffloadedSegment };
        var net = new TcpLinkSimulator(5, settings);
        var (data, received, done) = Transfer(net, 2_000_000, 5);

        Assert.True(done);
        Assert.Equal(data, received);
        Assert.Equal(0, net.A.Counters.Retransmissions);
        Assert.True(net.LongestSegment > 40 * 1448, $"longest segment {net.LongestSegment}");
    }

    // A connects to B, sends `bytes` and closes; B reads everything and closes.
    private static (byte[] Data, byte[] Received, bool Done) Transfer(TcpLinkSimulator net, int bytes, int seed)
    {
        var listener = net.B.Listen(Port);
        var data = TcpLinkSimulator.Data(bytes, seed);
        var client = net.A.Connect(TcpLinkSimulator.AddressA, TcpLinkSimulator.AddressB, Port, net.Now);
        TcpControlBlock? server = null;
        var received = new MemoryStream();
        int written = 0;
        bool serverClosed = false;
        var buffer = new byte[65536];
        void Pump()
        {
            if (client.State is TcpState.Established && written < data.Length)
            {
                written += client.Send(data.AsSpan(written));
                if (written == data.Length) client.Close();
            }
            server ??= listener.TryAccept();
            if (server is null) return;
            int n;
            while ((n = server.Read(buffer)) > 0) received.Write(buffer, 0, n);
            if (server.PeerClosed && server.Available == 0 && !serverClosed)
            {
                serverClosed = true;
                server.Close();
            }
        }
        bool done = net.RunUntil(() => serverClosed && client.State is TcpState.TimeWait or TcpState.Closed, TimeSpan.FromHours(1), Pump);
        return (data, received.ToArray(), done);
    }
}
