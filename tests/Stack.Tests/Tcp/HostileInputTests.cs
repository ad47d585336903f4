using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>Malformed, truncated, corrupted and random segments are dropped and counted, never thrown.</summary>
public class HostileInputTests
{
    private static readonly Ipv4Address Us = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Them = Ipv4Address.Parse("10.0.0.2");

    private static byte[] Segment(TcpHeader header, ReadOnlySpan<byte> payload = default)
    {
        var bytes = new byte[header.Length + payload.Length];
        header.Emit(bytes);
        payload.CopyTo(bytes.AsSpan(header.Length));
        TcpHeader.WriteChecksum(bytes, Them, Us);
        return bytes;
    }

    [Fact]
    public void Bad_checksum_is_counted_and_dropped()
    {
        var table = new TcpEndpointTable(new TcpSettings(), b => b.Fill(1));
        table.Listen(80);
        var syn = Segment(new TcpHeader(40000, 80, new TcpSeqNumber(1), default, TcpFlags.Syn, 1000));
        syn[^1] ^= 0xFF;
        table.ReceiveSegment(Them, Us, syn, TimeSpan.Zero);
        Assert.Equal(1, table.Counters.BadChecksum);
        Assert.Equal(0, table.ConnectionCount);
    }

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 0 })]             // zero-length option
    [InlineData(new byte[] { 30, 200, 0, 0 })]          // option longer than the header
    [InlineData(new byte[] { 8, 4, 0, 0 })]             // short timestamps
    public void Malformed_options_are_counted_and_dropped(byte[] options)
    {
        var table = new TcpEndpointTable(new TcpSettings(), b => b.Fill(1));
        table.Listen(80);
        var bytes = new byte[24];
        new TcpHeader(40000, 80, new TcpSeqNumber(1), default, TcpFlags.Syn, 1000).Emit(bytes);
        bytes[12] = 6 << 4;
        options.CopyTo(bytes, 20);
        TcpHeader.WriteChecksum(bytes, Them, Us);
        table.ReceiveSegment(Them, Us, bytes, TimeSpan.Zero);
        Assert.Equal(1, table.Counters.Malformed);
        Assert.Equal(0, table.ConnectionCount);
    }

    [Fact]
    public void Random_bytes_never_throw_and_memory_stays_bounded()
    {
        var table = new TcpEndpointTable(new TcpSettings(), b => b.Fill(7));
        var listener = table.Listen(80, backlog: 4, synQueueLimit: 16);
        var rng = new Random(11);
        var sink = new CapturingSink();
        for (int i = 0; i < 20_000; i++)
        {
            var bytes = new byte[rng.Next(0, 80)];
            rng.NextBytes(bytes);
            if (bytes.Length >= 20)
            {
                bytes[2] = 0; bytes[3] = 80;                    // aim at the listener half the time
                if (i % 2 == 0) bytes[13] = (byte)TcpFlags.Syn;
                bytes[12] = (byte)(rng.Next(5, 16) << 4);
                TcpHeader.WriteChecksum(bytes, Them, Us);       // valid checksum, so the parser is exercised
            }
            table.ReceiveSegment(Them, Us, bytes, TimeSpan.FromMilliseconds(i));
            table.Poll(TimeSpan.FromMilliseconds(i), sink);
            sink.Segments.Clear();
        }
        Assert.True(table.ConnectionCount <= 16 + 4);
        Assert.True(table.Counters.Malformed > 0);
        Assert.True(listener.HalfOpenCount <= 16);
    }

    [Fact]
    public void Out_of_window_data_is_acknowledged_and_discarded()
    {
        var h = TcpHarness.Established();
        var reply = Assert.Single(h.Deliver(h.Segment(seq: TcpHarness.RemoteIss + 1 + 100_000), new byte[100]));
        Assert.Equal(TcpHarness.RemoteIss + 1, reply.Ack);
        Assert.Equal(0, h.Tcb.Available);
        Assert.Equal(1, h.Counters.OutOfWindowSegments);
    }

    [Fact]
    public void Reassembly_range_limit_drops_excess_fragments_and_counts_them()
    {
        var h = TcpHarness.Established(TcpHarness.Plain with { MaxOutOfOrderRanges = 4 });
        for (uint i = 0; i < 10; i++) h.Deliver(h.Segment(seq: TcpHarness.RemoteIss + 1 + 10 + i * 20), new byte[5]);
        Assert.Equal(6, h.Counters.ReassemblyDrops);
        // The gap fill still works with the ranges that were kept.
        h.Deliver(h.Segment(), new byte[10]);
        Assert.Equal(15, h.Tcb.Available);
    }
}
