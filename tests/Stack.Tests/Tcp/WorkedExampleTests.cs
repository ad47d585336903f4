using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// The connection examples of RFC 9293 §3.5-3.6 (figures 6-13) replayed between our own cores with
/// the RFC's sequence numbers. <c>Transfer</c> moves what one side sent to the other.
/// </summary>
public class WorkedExampleTests
{
    private static readonly Ipv4Address AddrA = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address AddrB = Ipv4Address.Parse("10.0.0.2");
    private static readonly TcpTuple TupleA = new(AddrA, 1000, AddrB, 2000);
    private static readonly TcpTuple TupleB = new(AddrB, 2000, AddrA, 1000);
    private static readonly TcpSettings Settings = new() { Timestamps = false, SelectiveAck = false, WindowScaling = false };
    private static readonly TimeSpan Now = TimeSpan.FromSeconds(1);

    /// <summary>Polls <paramref name="from"/> and delivers its segments to <paramref name="to"/>; returns them.</summary>
    private static List<SentSegment> Transfer(TcpControlBlock from, TcpControlBlock? to)
    {
        var sink = new CapturingSink();
        from.Poll(Now, sink);
        if (to is not null) foreach (var s in sink.Segments) to.Receive(s.Header, s.Payload, Now);
        return sink.Segments;
    }

    private static List<SentSegment> Transfer(TcpControlBlock from, TcpEndpointTable to)
    {
        var sink = new CapturingSink();
        from.Poll(Now, sink);
        foreach (var s in sink.Segments) to.Receive(AddrA, AddrB, s.Header, s.Payload, Now);
        return sink.Segments;
    }

    private static List<SentSegment> Transfer(TcpEndpointTable from, TcpControlBlock to)
    {
        var sink = new CapturingSink();
        from.Poll(Now, sink);
        foreach (var s in sink.Segments) to.Receive(s.Header, s.Payload, Now);
        return sink.Segments;
    }

    /// <summary>Both sides transmit before either receives: their segments cross in the network.</summary>
    private static void Cross(TcpControlBlock a, TcpControlBlock b)
    {
        var sinkA = new CapturingSink();
        var sinkB = new CapturingSink();
        a.Poll(Now, sinkA);
        b.Poll(Now, sinkB);
        foreach (var s in sinkA.Segments) b.Receive(s.Header, s.Payload, Now);
        foreach (var s in sinkB.Segments) a.Receive(s.Header, s.Payload, Now);
    }

    private static TcpControlBlock Connect(TcpTuple tuple, uint iss) =>
        TcpControlBlock.Connect(Settings, new TcpCounters(), tuple, new TcpSeqNumber(iss), Now);

    private static TcpControlBlock AcceptFrom(TcpControlBlock client, uint iss)
    {
        var sink = new CapturingSink();
        client.Poll(Now, sink);
        var syn = Assert.Single(sink.Segments);
        return TcpControlBlock.Accept(Settings, new TcpCounters(), TupleB, new TcpSeqNumber(iss), syn.Header, Now);
    }

    private static (TcpControlBlock A, TcpControlBlock B) EstablishedPair()
    {
        var a = Connect(TupleA, 100);
        var b = AcceptFrom(a, 300);
        Transfer(b, a);
        Transfer(a, b);
        Assert.Equal(TcpState.Established, a.State);
        Assert.Equal(TcpState.Established, b.State);
        return (a, b);
    }

    [Fact]
    public void Figure6_basic_three_way_handshake_then_data()
    {
        var a = Connect(TupleA, 100);
        var b = AcceptFrom(a, 300);                              // 2: <SEQ=100><CTL=SYN>
        var synAck = Assert.Single(Transfer(b, a));              // 3: <SEQ=300><ACK=101><CTL=SYN,ACK>
        Assert.Equal((300u, 101u, TcpFlags.Syn | TcpFlags.Ack), (synAck.Seq, synAck.Ack, synAck.Flags));
        Assert.Equal(TcpState.Established, a.State);
        var ack = Assert.Single(Transfer(a, b));                 // 4: <SEQ=101><ACK=301><CTL=ACK>
        Assert.Equal((101u, 301u, TcpFlags.Ack), (ack.Seq, ack.Ack, ack.Flags));
        Assert.Equal(TcpState.Established, b.State);
        a.Send("DATA"u8);
        var data = Assert.Single(Transfer(a, b));                // 5: <SEQ=101><ACK=301><CTL=ACK><DATA>
        Assert.Equal((101u, 301u), (data.Seq, data.Ack));
        Assert.Equal(4, b.Available);
    }

    [Fact]
    public void Figure7_simultaneous_connection_synchronization()
    {
        var a = Connect(TupleA, 100);
        var b = Connect(TupleB, 300);
        Cross(a, b);                                             // <SEQ=100><CTL=SYN> and <SEQ=300><CTL=SYN> cross
        Assert.Equal(TcpState.SynReceived, a.State);
        Assert.Equal(TcpState.SynReceived, b.State);
        var sinkA = new CapturingSink();
        var sinkB = new CapturingSink();
        a.Poll(Now, sinkA);
        b.Poll(Now, sinkB);
        var fromA = Assert.Single(sinkA.Segments);              // 5: <SEQ=100><ACK=301><CTL=SYN,ACK>
        var fromB = Assert.Single(sinkB.Segments);              // 6: <SEQ=300><ACK=101><CTL=SYN,ACK>
        Assert.Equal((100u, 301u, TcpFlags.Syn | TcpFlags.Ack), (fromA.Seq, fromA.Ack, fromA.Flags));
        Assert.Equal((300u, 101u, TcpFlags.Syn | TcpFlags.Ack), (fromB.Seq, fromB.Ack, fromB.Flags));
        a.Receive(fromB.Header, default, Now);
        b.Receive(fromA.Header, default, Now);                   // 7
        Assert.Equal(TcpState.Established, a.State);
        Assert.Equal(TcpState.Established, b.State);
    }

    [Fact]
    public void Figure8_recovery_from_old_duplicate_syn()
    {
        var table = new TcpEndpointTable(Settings, s => s.Fill(3));
        var listener = table.Listen(2000);
        var a = Connect(TupleA, 100);
        Transfer(a, (TcpControlBlock?)null);                     // A's SYN is delayed in the network
        // 3: an old duplicate <SEQ=90><CTL=SYN> arrives at B.
        table.Receive(AddrA, AddrB, new TcpHeader(1000, 2000, new TcpSeqNumber(90), default, TcpFlags.Syn, 1000), default, Now);
        var synAck = Assert.Single(Transfer(table, a));          // 4: <SEQ=Z><ACK=91><CTL=SYN,ACK>
        Assert.Equal(91u, synAck.Ack);
        var rst = Assert.Single(Transfer(a, table));             // 5: <SEQ=91><CTL=RST>
        Assert.Equal((91u, TcpFlags.Rst), (rst.Seq, rst.Flags));
        Transfer(table, a);
        Assert.Equal(0, table.ConnectionCount);                  // B back to LISTEN
        // 6-8: A's own SYN (retransmitted) now gets through and the handshake completes.
        table.Receive(AddrA, AddrB, new TcpHeader(1000, 2000, new TcpSeqNumber(100), default, TcpFlags.Syn, 1000), default, Now);
        var good = Assert.Single(Transfer(table, a));
        Assert.Equal(101u, good.Ack);
        Transfer(a, table);
        Transfer(table, a);
        Assert.Equal(TcpState.Established, a.State);
        Assert.NotNull(listener.TryAccept());
    }

    [Fact]
    public void Figure9_half_open_connection_discovery()
    {
        var (_, b) = EstablishedPair();
        // A crashed and reconnects with a new ISS from the same port.
        var a2 = Connect(TupleA, 400);
        Transfer(a2, b);                                         // <SEQ=400><CTL=SYN>
        var challenge = Assert.Single(Transfer(b, a2));          // B answers with an ACK (RFC 5961 §4)
        Assert.Equal(TcpFlags.Ack, challenge.Flags);
        var rst = Assert.Single(Transfer(a2, b));                // A: <SEQ=B's ACK><CTL=RST>
        Assert.Equal((TcpFlags.Rst, challenge.Ack), (rst.Flags, rst.Seq));
        Assert.Equal(TcpState.Closed, b.State);                  // B aborts
        Assert.Equal(TcpError.ConnectionReset, b.Error);
    }

    [Fact]
    public void Figure10_active_side_causes_half_open_connection_discovery()
    {
        var (a, _) = EstablishedPair();
        var crashedB = new TcpEndpointTable(Settings, s => s.Fill(4)); // B lost all state
        a.Send("more"u8);
        Transfer(a, crashedB);
        var sink = new CapturingSink();
        crashedB.Poll(Now, sink);
        var rst = Assert.Single(sink.Segments);
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        a.Receive(rst.Header, default, Now);
        Assert.Equal(TcpState.Closed, a.State);
        Assert.Equal(TcpError.ConnectionReset, a.Error);
    }

    [Fact]
    public void Figure12_normal_close_sequence()
    {
        var (a, b) = EstablishedPair();
        a.Close();
        var fin = Assert.Single(Transfer(a, b));                 // <SEQ=100+1><ACK=300+1><CTL=FIN,ACK>
        Assert.Equal((101u, 301u, TcpFlags.Fin | TcpFlags.Ack), (fin.Seq, fin.Ack, fin.Flags));
        Assert.Equal(TcpState.FinWait1, a.State);
        Assert.Equal(TcpState.CloseWait, b.State);
        Transfer(b, a);                                          // <SEQ=301><ACK=102><CTL=ACK>
        Assert.Equal(TcpState.FinWait2, a.State);
        b.Close();
        var finB = Assert.Single(Transfer(b, a));                // <SEQ=301><ACK=102><CTL=FIN,ACK>
        Assert.Equal((301u, 102u), (finB.Seq, finB.Ack));
        Assert.Equal(TcpState.TimeWait, a.State);
        Assert.Equal(TcpState.LastAck, b.State);
        Transfer(a, b);                                          // <SEQ=102><ACK=302><CTL=ACK>
        Assert.Equal(TcpState.Closed, b.State);
    }

    [Fact]
    public void Figure13_simultaneous_close_sequence()
    {
        var (a, b) = EstablishedPair();
        a.Close();
        b.Close();
        Cross(a, b);                                             // both FINs in flight
        Assert.Equal(TcpState.Closing, a.State);
        Assert.Equal(TcpState.Closing, b.State);
        Transfer(a, b);
        Transfer(b, a);
        Assert.Equal(TcpState.TimeWait, a.State);
        Assert.Equal(TcpState.TimeWait, b.State);
    }
}
