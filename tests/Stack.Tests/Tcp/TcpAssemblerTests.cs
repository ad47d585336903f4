using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>Out-of-order range tracking (receive side) and the SACK scoreboard (send side).</summary>
public class TcpAssemblerTests
{
    [Fact]
    public void Merges_touching_and_overlapping_ranges()
    {
        var a = new TcpAssembler(4);
        Assert.True(a.Add(10, 20));
        Assert.True(a.Add(30, 40));
        Assert.True(a.Add(20, 30));
        Assert.Equal(1, a.RangeCount);
        Assert.Equal((10, 40), a[0]);
        Assert.True(a.Add(5, 50));
        Assert.Equal((5, 50), a[0]);
    }

    [Fact]
    public void Refuses_a_range_beyond_the_limit_without_changing_anything()
    {
        var a = new TcpAssembler(2);
        a.Add(10, 20);
        a.Add(30, 40);
        Assert.False(a.Add(50, 60));
        Assert.Equal(2, a.RangeCount);
        Assert.True(a.Add(15, 35)); // merging needs no new range
        Assert.Equal(1, a.RangeCount);
    }

    [Fact]
    public void Take_front_returns_contiguous_prefix_and_rebases_the_rest()
    {
        var a = new TcpAssembler(4);
        a.Add(10, 20);
        a.Add(0, 10);
        a.Add(25, 30);
        Assert.Equal(20, a.TakeFront());
        Assert.Equal((5, 10), a[0]);
        Assert.Equal(0, a.TakeFront());
    }

    [Fact]
    public void Latest_range_is_tracked_for_the_first_sack_block()
    {
        var a = new TcpAssembler(4);
        a.Add(10, 20);
        a.Add(40, 50);
        Assert.Equal(40, a.LatestStart);
        a.Add(20, 25);
        Assert.Equal(10, a.LatestStart);
    }

    private static TcpSeqNumber S(uint v) => new(v);

    [Fact]
    public void Scoreboard_merges_blocks_and_forgets_acknowledged_data()
    {
        var b = new TcpSackScoreboard(8);
        b.Add(S(100), S(200));
        b.Add(S(300), S(400));
        b.Add(S(200), S(300));
        Assert.Equal(1, b.Count);
        Assert.Equal(300, b.SackedBytes);
        Assert.True(b.IsSacked(S(150), out var end));
        Assert.Equal(S(400), end);
        b.Acknowledge(S(250));
        Assert.Equal(150, b.SackedBytes);
        Assert.Equal(S(400), b.HighestSacked(S(0)));
        Assert.Equal(S(400), b.NextSackedAfter(S(500), S(400)));
    }

    [Fact]
    public void Scoreboard_handles_sequence_wraparound()
    {
        var b = new TcpSackScoreboard(8);
        b.Add(S(0xFFFF_FF00), S(0x100));
        Assert.True(b.IsSacked(S(0x10), out var end));
        Assert.Equal(S(0x100), end);
        b.Acknowledge(S(0xFFFF_FFFF));
        Assert.Equal(0x101, b.SackedBytes);
    }

    [Fact]
    public void Receive_buffer_places_out_of_order_bytes_across_the_ring_edge()
    {
        var buffer = new TcpReceiveBuffer(8);
        buffer.WriteAt(0, [1, 2, 3, 4, 5, 6]);
        buffer.Commit(6);
        var read = new byte[6];
        Assert.Equal(6, buffer.Read(read));
        buffer.WriteAt(3, [9, 9]);   // wraps past the end of the ring
        buffer.WriteAt(0, [7, 8, 8]);
        buffer.Commit(5);
        read = new byte[5];
        buffer.Read(read);
        Assert.Equal(new byte[] { 7, 8, 8, 9, 9 }, read);
    }

    [Fact]
    public void Send_buffer_peeks_across_the_ring_edge()
    {
        var buffer = new TcpSendBuffer(8);
        Assert.Equal(6, buffer.Write([1, 2, 3, 4, 5, 6]));
        buffer.Consume(5);
        Assert.Equal(7, buffer.Write([7, 8, 9, 10, 11, 12, 13, 14]));
        var peek = new byte[4];
        buffer.Peek(2, peek);
        Assert.Equal(new byte[] { 8, 9, 10, 11 }, peek);
    }
}
