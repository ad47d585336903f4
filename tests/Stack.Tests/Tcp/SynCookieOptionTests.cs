using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// SYN cookies keep the client's window scale and SACK-permitted in the SYN-ACK's TSval when the
/// client offers timestamps (RFC 7323), as Linux does; without timestamps only the MSS survives.
/// </summary>
public class SynCookieOptionTests
{
    private static readonly Ipv4Address Us = Ipv4Address.Parse("10.0.0.1");
    private static readonly Ipv4Address Them = Ipv4Address.Parse("10.0.0.2");
    private static readonly TimeSpan T0 = TimeSpan.FromSeconds(10);
    private const uint ClientIsn = 5000;
    private const uint ClientTsval = 777_000;

    // Every SYN gets a cookie: a SYN queue limit of 0.
    private static (TcpEndpointTable Table, TcpListenQueue Listener) CookieListener(TcpSettings? settings = null)
    {
        var table = new TcpEndpointTable(settings ?? new TcpSettings(), b => new Random(1).NextBytes(b));
        return (table, table.Listen(80, backlog: 8, synQueueLimit: 0));
    }

    private static readonly TcpOptions FullOffer = new()
    {
        MaxSegmentSize = 1460, WindowScale = 7, SackPermitted = true, Timestamps = new TcpTimestamps(ClientTsval, 0),
    };

    private static TcpHeader Syn(TcpOptions options) =>
        new(40000, 80, new TcpSeqNumber(ClientIsn), default, TcpFlags.Syn, 65535, options);

    private static SentSegment Exchange(TcpEndpointTable table, TcpHeader segment, ReadOnlySpan<byte> payload, TimeSpan now) =>
        Assert.Single(Deliver(table, segment, payload, now));

    private static List<SentSegment> Deliver(TcpEndpointTable table, TcpHeader segment, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        table.Receive(Them, Us, segment, payload, now);
        return Poll(table, now);
    }

    private static List<SentSegment> Poll(TcpEndpointTable table, TimeSpan now)
    {
        var sink = new CapturingSink();
        table.Poll(now, sink);
        return sink.Segments;
    }

    private static TcpHeader AckOf(SentSegment synAck, uint tsval, uint echo) =>
        new(40000, 80, new TcpSeqNumber(ClientIsn + 1), synAck.Header.Sequence + 1, TcpFlags.Ack | TcpFlags.Psh, 1000,
            new TcpOptions { Timestamps = new TcpTimestamps(tsval, echo) });

    [Fact]
    public void Cookie_syn_ack_offers_window_scaling_sack_and_timestamps_when_the_client_offers_timestamps()
    {
        var (table, _) = CookieListener();
        var synAck = Exchange(table, Syn(FullOffer), default, T0);

        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(0, table.ConnectionCount); // still stateless
        Assert.Equal((byte)3, synAck.Header.Options.WindowScale); // our shift for a 256 KiB buffer
        Assert.True(synAck.Header.Options.SackPermitted);
        var ts = Assert.NotNull(synAck.Header.Options.Timestamps);
        Assert.Equal(ClientTsval, ts.EchoReply);
        Assert.Equal(7u | 0x10u, ts.Value & 0x3F); // the client's shift and SACK-permitted ride in the TSval
    }

    [Fact]
    public void Cookie_ack_restores_window_scaling_sack_and_timestamps()
    {
        var (table, listener) = CookieListener();
        var synAck = Exchange(table, Syn(FullOffer), default, T0);
        uint ourTsval = synAck.Header.Options.Timestamps!.Value.Value;

        var later = T0 + TimeSpan.FromMilliseconds(30);
        Assert.Empty(Deliver(table, AckOf(synAck, ClientTsval + 30, ourTsval), "GET /"u8, later));
        var reply = Assert.Single(Poll(table, later + TimeSpan.FromSeconds(1))); // the delayed ACK of the data
        var tcb = Assert.IsType<TcpControlBlock>(listener.TryAccept());

        Assert.Equal(TcpState.Established, tcb.State);
        Assert.Equal(5, tcb.Available);
        Assert.True(tcb.TimestampsEnabled);
        Assert.True(tcb.SackEnabled);
        Assert.Equal(7, tcb.SendWindowScale);
        Assert.Equal(3, tcb.ReceiveWindowScale);
        Assert.Equal(1000 << 7, tcb.SendWindow);       // the ACK's window is scaled
        Assert.Equal(1460 - 12, tcb.SendMss);           // the timestamp option's room is taken off
        Assert.Equal(1, table.Counters.SynCookiesAccepted);
        var echoed = Assert.NotNull(reply.Header.Options.Timestamps);
        Assert.Equal(ClientTsval + 30, echoed.EchoReply);
        Assert.True(unchecked((int)(echoed.Value - ourTsval)) >= 0, "our timestamps must not go backwards after the cookie");
    }

    [Fact]
    public void Client_without_window_scaling_or_sack_gets_neither_back_from_the_cookie()
    {
        var (table, listener) = CookieListener();
        var synAck = Exchange(table, Syn(FullOffer with { WindowScale = null, SackPermitted = false }), default, T0);
        Assert.Null(synAck.Header.Options.WindowScale);
        Assert.False(synAck.Header.Options.SackPermitted);

        Deliver(table, AckOf(synAck, ClientTsval + 1, synAck.Header.Options.Timestamps!.Value.Value), "x"u8, T0);
        var tcb = Assert.IsType<TcpControlBlock>(listener.TryAccept());
        Assert.True(tcb.TimestampsEnabled);
        Assert.False(tcb.SackEnabled);
        Assert.Equal(0, tcb.SendWindowScale);
        Assert.Equal(0, tcb.ReceiveWindowScale);
    }

    [Fact]
    public void Without_timestamps_a_cookie_keeps_only_the_mss()
    {
        var (table, listener) = CookieListener();
        var synAck = Exchange(table, Syn(FullOffer with { Timestamps = null }), default, T0);
        Assert.Null(synAck.Header.Options.WindowScale);
        Assert.False(synAck.Header.Options.SackPermitted);
        Assert.Null(synAck.Header.Options.Timestamps);

        var ack = new TcpHeader(40000, 80, new TcpSeqNumber(ClientIsn + 1), synAck.Header.Sequence + 1, TcpFlags.Ack, 1000);
        Deliver(table, ack, "x"u8, T0);
        var tcb = Assert.IsType<TcpControlBlock>(listener.TryAccept());
        Assert.False(tcb.TimestampsEnabled || tcb.SackEnabled);
        Assert.Equal(0, tcb.SendWindowScale);
        Assert.Equal(1000, tcb.SendWindow);
        Assert.Equal(1460, tcb.SendMss);
    }

    [Fact]
    public void Option_bits_altered_in_the_echo_fail_the_cookie()
    {
        var (table, listener) = CookieListener();
        var synAck = Exchange(table, Syn(FullOffer), default, T0);
        uint ourTsval = synAck.Header.Options.Timestamps!.Value.Value;

        // A client claiming a larger window shift than it offered (bits 0-3) is refused.
        var rst = Exchange(table, AckOf(synAck, ClientTsval + 1, ourTsval ^ 0x3), default, T0);
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        // So is an ACK that drops the timestamps the handshake agreed on.
        var bare = new TcpHeader(40000, 80, new TcpSeqNumber(ClientIsn + 1), synAck.Header.Sequence + 1, TcpFlags.Ack, 1000);
        Assert.Equal(TcpFlags.Rst, Exchange(table, bare, default, T0).Flags);
        Assert.Null(listener.TryAccept());
        Assert.Equal(0, table.Counters.SynCookiesAccepted);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(63u)]
    [InlineData(64u)]
    [InlineData(0xFFFF_FFF0u)]
    public void Cookie_timestamp_never_runs_ahead_of_the_clock(uint clock)
    {
        for (int bits = 0; bits < 64; bits++)
        {
            uint value = TcpSynCookies.Timestamp(clock, bits);
            Assert.Equal((uint)bits, value & 0x3F);
            int behind = unchecked((int)(clock - value));
            Assert.InRange(behind, 0, 63);
        }
    }

    [Fact]
    public async Task Two_stacks_agree_sack_and_window_scaling_through_a_cookie_handshake()
    {
        using var net = new SimulatedNetwork();
        var a = net.AddStack("10.0.0.1/24");
        var b = net.AddStack("10.0.0.2/24");
        await using var listener = await b.ListenTcpAsync(8080, synQueueLimit: 0);
        var accept = listener.AcceptAsync().AsTask();
        var client = await net.RunAsync(a.ConnectTcpAsync(Ipv4Address.Parse("10.0.0.2"), 8080));
        var server = await net.RunAsync(accept);

        var data = new byte[300_000];
        new Random(5).NextBytes(data);
        await client.Output.WriteAsync(data);
        await client.Output.CompleteAsync();
        var received = new MemoryStream();
        await net.DriveAsync(Task.Run(async () =>
        {
            while (true)
            {
                var result = await server.Input.ReadAsync();
                foreach (var segment in result.Buffer) received.Write(segment.Span);
                server.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted) break;
            }
        }), TimeSpan.FromMinutes(5));

        Assert.Equal(data, received.ToArray());
        Assert.Equal(1, b.TcpCounters()!.SynCookiesAccepted);
        await net.SettleAsync();
        Assert.True(server.Core.SackEnabled && server.Core.TimestampsEnabled);
        Assert.Equal(client.Core.ReceiveWindowScale, server.Core.SendWindowScale);
        Assert.Equal(server.Core.ReceiveWindowScale, client.Core.SendWindowScale);
        Assert.Equal(3, server.Core.SendWindowScale);
    }
}
