using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>Listeners, demultiplexing, resets for closed ports (RFC 9293 §3.10.7.1-2), SYN floods, ports.</summary>
public class EndpointTableTests
{
    private static readonly Ipv4Address Us = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Them = Ipv4Address.Parse("10.0.0.2");
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(10);

    private static TcpEndpointTable Table(int seed = 1) => new(new TcpSettings(), b => new Random(seed).NextBytes(b));

    private static TcpHeader Syn(ushort srcPort, uint seq = 100, ushort dstPort = 80) =>
        new(srcPort, dstPort, new TcpSeqNumber(seq), default, TcpFlags.Syn, 65535, new TcpOptions { MaxSegmentSize = 1460 });

    private static List<SentSegment> Poll(TcpEndpointTable table, TimeSpan now)
    {
        var sink = new CapturingSink();
        table.Poll(now, sink);
        return sink.Segments;
    }

    [Fact]
    public void Syn_to_listener_gets_syn_ack_and_handshake_completes_into_accept_queue()
    {
        var table = Table();
        var listener = table.Listen(80);
        table.Receive(Them, Us, Syn(40000), default, T0);
        var synAck = Assert.Single(Poll(table, T0));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(101u, synAck.Ack);
        Assert.Null(listener.TryAccept());
        table.Receive(Them, Us, new TcpHeader(40000, 80, new TcpSeqNumber(101), synAck.Header.Sequence + 1, TcpFlags.Ack, 65535), default, T0);
        Poll(table, T0);
        var tcb = listener.TryAccept();
        Assert.NotNull(tcb);
        Assert.Equal(TcpState.Established, tcb.State);
        Assert.Equal(new TcpTuple(Us, 80, Them, 40000), tcb.Tuple);
    }

    [Fact]
    public void Syn_to_closed_port_is_answered_with_rst_ack()
    {
        var table = Table();
        table.Receive(Them, Us, Syn(40000, seq: 7, dstPort: 81), default, T0);
        var rst = Assert.Single(Poll(table, T0));
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        Assert.Equal(0u, rst.Seq);
        Assert.Equal(8u, rst.Ack); // SEG.SEQ + SEG.LEN, the SYN counting one
        Assert.Equal(new TcpTuple(Us, 81, Them, 40000), rst.Tuple);
    }

    [Fact]
    public void Ack_to_closed_port_is_answered_with_rst_at_its_ack_number()
    {
        var table = Table();
        table.Receive(Them, Us, new TcpHeader(40000, 81, new TcpSeqNumber(7), new TcpSeqNumber(999), TcpFlags.Ack, 100), new byte[10], T0);
        var rst = Assert.Single(Poll(table, T0));
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(999u, rst.Seq);
    }

    [Fact]
    public void Ack_to_listener_without_connection_is_reset()
    {
        var table = Table();
        table.Listen(80);
        table.Receive(Them, Us, new TcpHeader(40000, 80, new TcpSeqNumber(7), new TcpSeqNumber(55), TcpFlags.Ack, 100), default, T0);
        Assert.Equal(TcpFlags.Rst, Assert.Single(Poll(table, T0)).Flags);
    }

    [Fact]
    public void Rst_is_never_answered()
    {
        var table = Table();
        table.Listen(80);
        table.Receive(Them, Us, new TcpHeader(40000, 81, new TcpSeqNumber(7), default, TcpFlags.Rst, 0), default, T0);
        table.Receive(Them, Us, new TcpHeader(40000, 80, new TcpSeqNumber(7), default, TcpFlags.Rst, 0), default, T0);
        Assert.Empty(Poll(table, T0));
    }

    [Fact]
    public void Syn_flood_is_bounded_by_evicting_oldest_half_open_and_real_client_still_connects()
    {
        var table = new TcpEndpointTable(new TcpSettings { SynCookies = false }, b => new Random(1).NextBytes(b));
        var listener = table.Listen(80, backlog: 8, synQueueLimit: 32);
        var rng = new Random(3);
        for (int i = 0; i < 5000; i++)
        {
            var spoofed = new Ipv4Address((uint)rng.Next());
            table.Receive(spoofed, Us, Syn((ushort)rng.Next(1024, 65535), (uint)rng.Next()), default, T0);
        }
        Poll(table, T0);
        Assert.Equal(32, listener.HalfOpenCount);
        Assert.Equal(32, table.ConnectionCount);
        Assert.Equal(5000 - 32, table.Counters.SynQueueEvictions);

        table.Receive(Them, Us, Syn(40000), default, T0);
        var synAck = Poll(table, T0).Single(s => s.Tuple.RemoteAddress == Them);
        table.Receive(Them, Us, new TcpHeader(40000, 80, new TcpSeqNumber(101), synAck.Header.Sequence + 1, TcpFlags.Ack, 65535), default, T0);
        Poll(table, T0);
        Assert.NotNull(listener.TryAccept());
    }

    [Fact]
    public void Half_open_connections_expire_after_syn_ack_retries()
    {
        var table = Table();
        var listener = table.Listen(80);
        table.Receive(Them, Us, Syn(40000), default, T0);
        var now = T0;
        for (int i = 0; i < 200 && table.PollAt is TimeSpan at; i++)
        {
            now = at > now ? at : now;
            Poll(table, now);
        }
        Assert.Equal(0, table.ConnectionCount);
        Assert.Equal(0, listener.HalfOpenCount);
    }

    [Fact]
    public void Full_backlog_drops_new_syns_and_counts_them()
    {
        var table = Table();
        var listener = table.Listen(80, backlog: 1);
        for (ushort port = 40000; port < 40001; port++)
        {
            table.Receive(Them, Us, Syn(port), default, T0);
            var synAck = Poll(table, T0).Single();
            table.Receive(Them, Us, new TcpHeader(port, 80, new TcpSeqNumber(101), synAck.Header.Sequence + 1, TcpFlags.Ack, 65535), default, T0);
            Poll(table, T0);
        }
        Assert.Equal(1, listener.ReadyCount);
        table.Receive(Them, Us, Syn(40005), default, T0);
        Assert.Empty(Poll(table, T0));
        Assert.Equal(1, table.Counters.ListenOverflows);
    }

    [Fact]
    public void Ephemeral_ports_are_unique_and_in_range()
    {
        var table = Table();
        var ports = new HashSet<ushort>();
        for (int i = 0; i < 1000; i++)
        {
            var tcb = table.Connect(Us, Them, 443, T0);
            Assert.InRange(tcb.Tuple.LocalPort, TcpEndpointTable.EphemeralFirst, TcpEndpointTable.EphemeralLast);
            Assert.True(ports.Add(tcb.Tuple.LocalPort));
        }
    }

    [Fact]
    public void Initial_sequence_numbers_differ_per_tuple_and_advance_with_the_clock()
    {
        var table = Table();
        var a = table.Connect(Us, Them, 443, T0, localPort: 50000).InitialSendSequence;
        var b = table.Connect(Us, Them, 443, T0, localPort: 50001).InitialSendSequence;
        Assert.NotEqual(a, b);
        var isn = new TcpIsnGenerator(new byte[16]);
        var tuple = new TcpTuple(Us, 1, Them, 2);
        // RFC 6528: same tuple, 4 µs later, one more.
        Assert.Equal(1, isn.Next(tuple, T0 + TimeSpan.FromTicks(40)) - isn.Next(tuple, T0));
    }

    [Fact]
    public void Duplicate_listener_is_api_misuse()
    {
        var table = Table();
        table.Listen(80);
        Assert.Throws<InvalidOperationException>(() => table.Listen(80));
    }

    [Fact]
    public void New_syn_above_the_old_incarnation_ends_time_wait_and_opens_a_new_connection()
    {
        var table = Table();
        var listener = table.Listen(80);
        // A connection on (Them:40000 -> Us:80) that the server (us) closes first, ending in TIME-WAIT.
        table.Receive(Them, Us, Syn(40000, seq: 100), default, T0);
        var synAck = Poll(table, T0).Single();
        var serverIss = synAck.Header.Sequence;
        table.Receive(Them, Us, new TcpHeader(40000, 80, new TcpSeqNumber(101), serverIss + 1, TcpFlags.Ack, 65535), default, T0);
        Poll(table, T0);
        var server = listener.TryAccept()!;
        server.Close();
        var fin = Poll(table, T0).Single();
        table.Receive(Them, Us, new TcpHeader(40000, 80, new TcpSeqNumber(101), fin.Header.Sequence + 1, TcpFlags.Fin | TcpFlags.Ack, 65535), default, T0);
        Poll(table, T0);
        Assert.Equal(TcpState.TimeWait, server.State);

        // An old duplicate SYN (below RCV.NXT) is not a new incarnation: challenge ACK from TIME-WAIT.
        table.Receive(Them, Us, Syn(40000, seq: 50), default, T0);
        Assert.Equal(TcpFlags.Ack, Poll(table, T0).Single().Flags);
        Assert.Equal(TcpState.TimeWait, server.State);

        // A newer SYN reuses the tuple at once, with an ISS above the old connection's sequence space.
        table.Receive(Them, Us, Syn(40000, seq: 5000), default, T0 + TimeSpan.FromSeconds(1));
        var newSynAck = Poll(table, T0 + TimeSpan.FromSeconds(1)).Single();
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, newSynAck.Flags);
        Assert.Equal(5001u, newSynAck.Ack);
        Assert.True(newSynAck.Header.Sequence > fin.Header.Sequence);
        Assert.Equal(TcpState.Closed, server.State);
    }

    [Fact]
    public void Poll_touches_only_connections_with_work()
    {
        var table = Table();
        var connections = Enumerable.Range(0, 500).Select(i => table.Connect(Us, Them, 443, T0, localPort: (ushort)(50000 + i))).ToList();
        var syns = Poll(table, T0);
        Assert.Equal(500, syns.Count);
        Assert.Equal(500, table.Polled.Count);

        // One segment arrives: only its connection is polled.
        var first = syns[0];
        table.Receive(Them, Us, new TcpHeader(443, first.Header.SourcePort, new TcpSeqNumber(9), first.Header.Sequence + 1,
            TcpFlags.Syn | TcpFlags.Ack, 1000, new TcpOptions { MaxSegmentSize = 1000 }), default, T0);
        Assert.Single(Poll(table, T0));
        Assert.Single(table.Polled);
        Assert.Equal(TcpState.Established, connections[0].State);

        // The application writes on one connection: only that one is polled.
        connections[0].Send(new byte[10]);
        Poll(table, T0);
        Assert.Single(table.Polled);

        // The next deadline is the SYN retransmission timer of the other 499, all due together.
        Assert.Equal(T0 + TimeSpan.FromSeconds(1), table.PollAt);
        Poll(table, T0 + TimeSpan.FromSeconds(1));
        Assert.Equal(500, table.Polled.Count); // 499 SYN retransmissions + the data retransmission
    }

    [Fact]
    public void Port_unreachable_quoting_our_syn_refuses_the_connect_but_a_blind_one_is_ignored()
    {
        var table = Table();
        var tcb = table.Connect(Us, Them, 443, T0, localPort: 50000);
        var syn = Poll(table, T0).Single();
        var quoted = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(quoted, 50000);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(quoted.AsSpan(2), 443);

        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(quoted.AsSpan(4), syn.Seq + 12345);
        table.ReceiveUnreachable(Us, Them, 3, quoted); // sequence number we never sent: forged
        Assert.Equal(TcpState.SynSent, tcb.State);

        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(quoted.AsSpan(4), syn.Seq);
        table.ReceiveUnreachable(Us, Them, 1, quoted); // host unreachable: soft, remembered
        Assert.Equal(TcpState.SynSent, tcb.State);
        Assert.Equal((byte)1, tcb.LastUnreachableCode);

        table.ReceiveUnreachable(Us, Them, 3, quoted); // port unreachable: hard while connecting
        Poll(table, T0);
        Assert.Equal(TcpState.Closed, tcb.State);
        Assert.Equal(TcpError.ConnectionRefused, tcb.Error);
    }

    [Fact]
    public void Unusable_settings_are_rejected_up_front()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TcpEndpointTable(new TcpSettings { ReceiveBufferSize = 0 }, b => b.Clear()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TcpEndpointTable(new TcpSettings { MaxRto = TimeSpan.FromMilliseconds(1) }, b => b.Clear()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TcpEndpointTable(new TcpSettings { MaxOutOfOrderRanges = 0 }, b => b.Clear()));
    }

    private static void Flood(TcpEndpointTable table, int count)
    {
        var rng = new Random(3);
        for (int i = 0; i < count; i++)
        {
            table.Receive(new Ipv4Address((uint)rng.Next()), Us, Syn((ushort)rng.Next(1024, 65535), (uint)rng.Next()), default, T0);
            Poll(table, T0); // the stack's loop polls after every frame
        }
    }

    [Fact]
    public void Full_syn_queue_answers_with_a_stateless_cookie_that_completes_the_handshake()
    {
        var table = Table();
        var listener = table.Listen(80, backlog: 8, synQueueLimit: 16);
        Flood(table, 1000);
        Assert.Equal(16, table.ConnectionCount); // state only for the first 16
        Assert.Equal(1000 - 16, table.Counters.SynCookiesSent);

        table.Receive(Them, Us, Syn(40000, seq: 5000), default, T0);
        var synAck = Poll(table, T0).Single();
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(5001u, synAck.Ack);
        Assert.Null(synAck.Header.Options.WindowScale);   // a cookie cannot remember these
        Assert.False(synAck.Header.Options.SackPermitted);
        Assert.Equal(16, table.ConnectionCount);          // still no state for it

        var ack = new TcpHeader(40000, 80, new TcpSeqNumber(5001), synAck.Header.Sequence + 1, TcpFlags.Ack | TcpFlags.Psh, 65535);
        table.Receive(Them, Us, ack, "GET /"u8, T0 + TimeSpan.FromSeconds(1));
        Poll(table, T0 + TimeSpan.FromSeconds(1));
        var tcb = listener.TryAccept();
        Assert.NotNull(tcb);
        Assert.Equal(TcpState.Established, tcb.State);
        Assert.Equal(5, tcb.Available);
        Assert.Equal(1460, tcb.SendMss);
        Assert.Equal(1, table.Counters.SynCookiesAccepted);
    }

    [Fact]
    public void Forged_or_stale_cookie_ack_gets_a_reset_and_no_connection()
    {
        var table = Table();
        table.Listen(80, synQueueLimit: 1);
        Flood(table, 1);
        table.Receive(Them, Us, Syn(40000, seq: 5000), default, T0);
        var synAck = Poll(table, T0).Single();

        var forged = new TcpHeader(40000, 80, new TcpSeqNumber(5001), synAck.Header.Sequence + 2, TcpFlags.Ack, 65535);
        table.Receive(Them, Us, forged, default, T0);
        Assert.Equal(TcpFlags.Rst, Poll(table, T0).Single().Flags);

        var stale = new TcpHeader(40000, 80, new TcpSeqNumber(5001), synAck.Header.Sequence + 1, TcpFlags.Ack, 65535);
        table.Receive(Them, Us, stale, default, T0 + TimeSpan.FromSeconds(200)); // over two 64 s periods later
        Assert.Equal(TcpFlags.Rst, Poll(table, T0 + TimeSpan.FromSeconds(200)).Single(s => s.Tuple.RemoteAddress == Them).Flags);
        Assert.Null(table.Find(new TcpTuple(Us, 80, Them, 40000)));
        Assert.Equal(0, table.Counters.SynCookiesAccepted);
    }
}
