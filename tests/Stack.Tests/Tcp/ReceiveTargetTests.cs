using System.Buffers;
using Apps.Stack.Tcp;
using static Apps.Stack.Tests.Tcp.TcpHarness;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// In-order bytes delivered straight into the application's buffer (<see cref="TcpControlBlock.ReceiveTarget"/>),
/// and everything else still kept in the receive buffer, in order, with the window following it.
/// </summary>
public class ReceiveTargetTests
{
    private const uint PeerStart = RemoteIss + 1;

    [Fact]
    public void In_order_bytes_go_to_the_target_and_the_window_stays_open()
    {
        var h = Established();
        var target = new ArrayBufferWriter<byte>();
        h.Tcb.ReceiveTarget = target;
        var data = Bytes(2000);

        Assert.Empty(h.Deliver(h.Segment(), data[..1000]));
        h.PeerSeq += 1000;
        var ack = Assert.Single(h.Deliver(h.Segment(), data[1000..]));

        Assert.Equal(data, target.WrittenSpan.ToArray());
        Assert.Equal(0, h.Tcb.Available);
        Assert.True(h.Tcb.TakeEvents().HasFlag(TcpEvents.Readable));
        Assert.Equal(PeerStart + 2000, ack.Ack);
        Assert.Equal(Plain.ReceiveBufferSize, ack.Header.Window); // nothing is held: the whole buffer is offered
    }

    [Fact]
    public void Without_a_target_the_same_bytes_wait_in_the_buffer_and_the_window_shrinks()
    {
        var h = Established();
        var data = Bytes(2000);

        h.Deliver(h.Segment(), data[..1000]);
        h.PeerSeq += 1000;
        var ack = Assert.Single(h.Deliver(h.Segment(), data[1000..]));

        Assert.Equal(2000, h.Tcb.Available);
        Assert.Equal(Plain.ReceiveBufferSize - 2000, ack.Header.Window);
    }

    [Fact]
    public void Out_of_order_bytes_wait_in_the_buffer_and_reach_the_reader_in_order()
    {
        var h = Established();
        var target = new ArrayBufferWriter<byte>();
        h.Tcb.ReceiveTarget = target;
        var data = Bytes(3000);

        h.Deliver(h.Segment(seq: PeerStart + 1000), data[1000..2000]); // a gap in front
        Assert.Equal(0, target.WrittenCount);
        h.Deliver(h.Segment(seq: PeerStart), data[..1000]);           // fills it: both become readable
        Assert.Equal(0, target.WrittenCount);
        Assert.Equal(2000, h.Tcb.Available);

        // Bytes in order behind unread ones queue up behind them, not ahead of them in the target.
        h.Deliver(h.Segment(seq: PeerStart + 2000), data[2000..]);
        Assert.Equal(0, target.WrittenCount);
        var read = new byte[3000];
        Assert.Equal(3000, h.Tcb.Read(read));
        Assert.Equal(data, read);

        // Once the buffer is drained the direct path opens again.
        h.PeerSeq = PeerStart + 3000;
        h.Deliver(h.Segment(), Bytes(500, 7));
        Assert.Equal(Bytes(500, 7), target.WrittenSpan.ToArray());
    }

    [Fact]
    public void Shutting_the_receive_side_down_lets_go_of_the_target()
    {
        var h = Established();
        var target = new ArrayBufferWriter<byte>();
        h.Tcb.ReceiveTarget = target;

        h.Tcb.ShutdownReceive(h.Now);
        h.Deliver(h.Segment(), Bytes(1000));
        h.PeerSeq += 1000;
        var ack = Assert.Single(h.Deliver(h.Segment(), Bytes(1000)));

        Assert.Null(h.Tcb.ReceiveTarget);
        Assert.Equal(0, target.WrittenCount);
        Assert.Equal(0, h.Tcb.Available);       // discarded,
        Assert.Equal(PeerStart + 2000, ack.Ack); // yet acknowledged
    }
}
