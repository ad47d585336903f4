using Apps.Stack.Tcp;
using static Apps.Stack.Tests.Tcp.TcpHarness;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// The send buffer written in place by a producer (<see cref="TcpControlBlock.SendBufferMemory"/>) and counted in
/// with <see cref="TcpControlBlock.CommitSend"/>: the same segments as <see cref="TcpControlBlock.Send"/> copies,
/// and free memory that follows the ring around its end.
/// </summary>
public class SendInPlaceTests
{
    [Fact]
    public void Bytes_written_in_place_and_committed_leave_as_copied_ones_do()
    {
        var h = Established();
        var data = Bytes(2500);
        data.CopyTo(h.Tcb.SendBufferMemory(0).Span);

        h.Tcb.CommitSend(2500);
        var sent = h.Poll();

        Assert.Equal([1000, 1000, 500], sent.Select(s => s.Payload.Length));
        Assert.Equal(data, sent.SelectMany(s => s.Payload).ToArray());
        Assert.Equal(2500, h.Tcb.Unacknowledged);
    }

    [Fact]
    public void Free_memory_runs_to_the_end_of_the_ring_then_starts_over_at_its_front()
    {
        var h = Established(Plain with { SendBufferSize = 4000 });
        Bytes(3600).CopyTo(h.Tcb.SendBufferMemory(0).Span);
        h.Tcb.CommitSend(3600);
        h.Poll();
        Assert.Equal(400, h.Tcb.SendBufferMemory(3600).Length); // the ring is full but for its last 400 bytes

        h.Deliver(h.Segment(ack: LocalIss + 1 + 3600)); // all acknowledged: the front is free again

        Assert.Equal(400, h.Tcb.SendBufferMemory(3600).Length);  // still contiguous only to the end
        Assert.Equal(3600, h.Tcb.SendBufferMemory(4000).Length); // and then from the front
        Assert.Equal(4000, h.Tcb.SendBufferFree(3600));
        var wrapped = Bytes(1000, 2);
        wrapped.AsSpan(0, 400).CopyTo(h.Tcb.SendBufferMemory(3600).Span);
        wrapped.AsSpan(400).CopyTo(h.Tcb.SendBufferMemory(4000).Span);
        h.Tcb.CommitSend(1000);
        Assert.Equal(wrapped, h.Poll().SelectMany(s => s.Payload).ToArray());
    }

    [Fact]
    public void Committing_more_than_is_free_or_after_closing_is_refused()
    {
        var h = Established(Plain with { SendBufferSize = 4000 });
        Assert.Throws<InvalidOperationException>(() => h.Tcb.CommitSend(4001));

        h.Tcb.Close();
        Assert.Throws<InvalidOperationException>(() => h.Tcb.CommitSend(1));
    }
}
