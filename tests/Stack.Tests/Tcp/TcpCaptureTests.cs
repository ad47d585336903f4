using Apps.Stack.Tcp;
using Apps.Stack.Tests.Wire;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// Real segments from the Linux 6.x kernel (socat over a veth pair between two namespaces, captured
/// with tshark), parsed three ways and replayed into our cores. veth checksum offload left partial
/// sums in the capture; the checksum fields were completed by hand (independently of our code).
/// </summary>
public class TcpCaptureTests
{
    private static readonly Ipv4Address Client = Ipv4Address.Parse("10.99.0.1");
    private static readonly Ipv4Address Server = Ipv4Address.Parse("10.99.0.2");

    /// <summary>10.99.0.1:49254 → 10.99.0.2:80 SYN: MSS 1460, SACK_PERM, TS 398553048/0, NOP, WS 10.</summary>
    internal static byte[] LinuxSyn => Convert.FromHexString(
        "c066005059f088f800000000a002faf00d0b0000020405b40402080a17c16fd8000000000103030a");

    /// <summary>The server's SYN-ACK: ISS 0x9bb0fc48, window 65160, TS 2327068958/398553048, WS 10.</summary>
    internal static byte[] LinuxSynAck => Convert.FromHexString(
        "0050c0669bb0fc4859f088f9a012fe88a5950000020405b40402080a8ab4411e17c16fd80103030a");

    /// <summary>The client's "hello\n" with PSH: NOP, NOP, timestamps, 6 bytes of data.</summary>
    internal static byte[] LinuxData => Convert.FromHexString(
        "c066005059f088f99bb0fc498018003f8ec400000101080a17c16fd88ab4411e68656c6c6f0a");

    private static bool Parse(ReadOnlySpan<byte> data, out TcpHeader header, out DropReason reason)
    {
        var error = TcpHeader.TryParse(data, out header, out _);
        reason = error switch
        {
            TcpParseError.None => DropReason.None,
            TcpParseError.Truncated => DropReason.Truncated,
            _ => DropReason.Malformed,
        };
        return error == TcpParseError.None;
    }

    [Fact]
    public void Linux_syn_parses_whole_byte_by_byte_and_with_trailing_data()
    {
        var expected = new TcpHeader(49254, 80, new TcpSeqNumber(0x59f088f8), default, TcpFlags.Syn, 64240, new TcpOptions
        {
            MaxSegmentSize = 1460, SackPermitted = true, Timestamps = new TcpTimestamps(398553048, 0), WindowScale = 10,
        });
        FeedThreeWays.Check<TcpHeader>(LinuxSyn, Parse, expected, requiredLength: 40);
        Assert.True(TcpHeader.VerifyChecksum(LinuxSyn, Client, Server));
    }

    [Fact]
    public void Linux_data_segment_parses_and_its_checksum_verifies()
    {
        var expected = new TcpHeader(49254, 80, new TcpSeqNumber(0x59f088f9), new TcpSeqNumber(0x9bb0fc49), TcpFlags.Psh | TcpFlags.Ack, 63,
            new TcpOptions { Timestamps = new TcpTimestamps(398553048, 2327068958) });
        FeedThreeWays.Check<TcpHeader>(LinuxData, Parse, expected, requiredLength: 32);
        Assert.True(TcpHeader.VerifyChecksum(LinuxData, Client, Server));
        Assert.Equal("hello\n"u8.ToArray(), LinuxData[32..]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Our_emitter_reproduces_the_linux_bytes_exactly(int which)
    {
        var linux = new[] { LinuxSyn, LinuxSynAck, LinuxData }[which];
        var (source, destination) = which == 1 ? (Server, Client) : (Client, Server);
        TcpHeader.TryParse(linux, out var header, out int offset);
        var ours = new byte[linux.Length];
        header.Emit(ours);
        linux.AsSpan(offset).CopyTo(ours.AsSpan(header.Length));
        TcpHeader.WriteChecksum(ours, source, destination);
        Assert.Equal(Convert.ToHexString(linux), Convert.ToHexString(ours));
    }

    [Fact]
    public void Our_listener_answers_the_linux_syn_with_every_option_it_offered()
    {
        var table = new TcpEndpointTable(new TcpSettings(), b => b.Fill(9));
        table.Listen(80);
        table.ReceiveSegment(Client, Server, LinuxSyn, TimeSpan.FromSeconds(1));
        var sink = new CapturingSink();
        table.Poll(TimeSpan.FromSeconds(1), sink);
        var synAck = Assert.Single(sink.Segments);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(0x59f088f9u, synAck.Ack);
        var o = synAck.Header.Options;
        Assert.True(o.SackPermitted);
        Assert.NotNull(o.WindowScale);
        Assert.Equal(398553048u, o.Timestamps!.Value.EchoReply);
    }

    [Fact]
    public void Linux_syn_ack_establishes_our_connect_with_window_scale_ten()
    {
        var counters = new TcpCounters();
        var tuple = new TcpTuple(Client, 49254, Server, 80);
        var tcb = TcpControlBlock.Connect(new TcpSettings(), counters, tuple, new TcpSeqNumber(0x59f088f8), TimeSpan.FromSeconds(1));
        var sink = new CapturingSink();
        tcb.Poll(TimeSpan.FromSeconds(1), sink);
        TcpHeader.TryParse(LinuxSynAck, out var synAck, out int offset);
        tcb.Receive(synAck, LinuxSynAck.AsSpan(offset), TimeSpan.FromSeconds(1.001));
        tcb.Poll(TimeSpan.FromSeconds(1.001), sink);

        Assert.Equal(TcpState.Established, tcb.State);
        Assert.Equal(10, tcb.SendWindowScale);
        Assert.True(tcb.TimestampsEnabled && tcb.SackEnabled);
        Assert.Equal(1460 - 12, tcb.SendMss);
        var ack = sink.Segments[^1];
        Assert.Equal(0x9bb0fc49u, ack.Ack);
        Assert.Equal(2327068958u, ack.Header.Options.Timestamps!.Value.EchoReply);
    }
}
