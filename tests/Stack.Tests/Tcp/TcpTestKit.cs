using System.IO.Pipelines;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>One segment a core handed to its sink, with the payload copied.</summary>
internal sealed record SentSegment(TcpTuple Tuple, TcpHeader Header, byte[] Payload)
{
    public TcpFlags Flags => Header.Flags;
    public uint Seq => Header.Sequence.Value;
    public uint Ack => Header.Acknowledgment.Value;
    public override string ToString() => $"{Flags} seq={Seq} ack={Ack} len={Payload.Length} win={Header.Window}";
}

internal sealed class CapturingSink : ITcpSegmentSink
{
    public List<SentSegment> Segments { get; } = [];

    public void Transmit(in TcpTuple tuple, in TcpHeader header, ReadOnlySpan<byte> payload) =>
        Segments.Add(new SentSegment(tuple, header, payload.ToArray()));

    public List<SentSegment> Take()
    {
        var list = Segments.ToList();
        Segments.Clear();
        return list;
    }
}

/// <summary>
/// Drives one <see cref="TcpControlBlock"/> against a scripted peer in virtual time. The peer's
/// ISS is 1000, ours 5000; templates build the peer's segments and tests change them with `with`.
/// </summary>
internal sealed class TcpHarness
{
    public static readonly Ipv4Address LocalAddress = Ipv4Address.Parse("10.0.0.1");
    public static readonly Ipv4Address RemoteAddress = Ipv4Address.Parse("10.0.0.2");
    public static readonly TcpTuple Connection = new(LocalAddress, 49200, RemoteAddress, 80);
    public const uint LocalIss = 5000;
    public const uint RemoteIss = 1000;

    /// <summary>No options beyond MSS, so sequence arithmetic in tests stays plain.</summary>
    public static readonly TcpSettings Plain = new()
    {
        WindowScaling = false, Timestamps = false, SelectiveAck = false, NoDelay = true,
        SendBufferSize = 16384, ReceiveBufferSize = 8192, MaxSegmentSize = 1000,
    };

    public TcpHarness(TcpControlBlock tcb, TcpCounters counters)
    {
        Tcb = tcb;
        Counters = counters;
    }

    public TcpControlBlock Tcb { get; }
    public TcpCounters Counters { get; }
    public CapturingSink Sink { get; } = new();
    public TimeSpan Now { get; private set; } = TimeSpan.FromSeconds(100);

    /// <summary>Next sequence number the peer sends (RCV.NXT as we should see it).</summary>
    public uint PeerSeq { get; set; } = RemoteIss + 1;

    /// <summary>A segment from the peer with ACK of everything we sent so far.</summary>
    public TcpHeader Segment(TcpFlags flags = TcpFlags.Ack, uint? seq = null, uint? ack = null, ushort window = 8000) =>
        new(80, 49200, new TcpSeqNumber(seq ?? PeerSeq), new TcpSeqNumber(ack ?? Tcb.SndNxt.Value), flags, window, Options);

    /// <summary>Options put on every template segment (timestamps once negotiated).</summary>
    public TcpOptions Options { get; set; }

    /// <summary>Every option enabled, and a receive buffer large enough to need window scaling.</summary>
    public static readonly TcpSettings Full = Plain with
    {
        WindowScaling = true, Timestamps = true, SelectiveAck = true, ReceiveBufferSize = 200_000,
    };

    /// <summary>ESTABLISHED with window scaling (peer shift 2), timestamps (peer clock at 500) and SACK.</summary>
    public static TcpHarness EstablishedWithOptions()
    {
        var h = SynSent(Full);
        var synAck = h.Segment(TcpFlags.Syn | TcpFlags.Ack, seq: RemoteIss, ack: LocalIss + 1) with
        {
            Options = new TcpOptions
            {
                MaxSegmentSize = 1000, WindowScale = 2, SackPermitted = true, Timestamps = new TcpTimestamps(500, 0),
            },
        };
        h.Deliver(synAck);
        Assert.Equal(TcpState.Established, h.Tcb.State);
        h.Options = new TcpOptions { Timestamps = new TcpTimestamps(501, 0) };
        h.Tcb.TakeEvents();
        return h;
    }

    /// <summary>Delivers a segment, polls, and returns what the core sent in reply.</summary>
    public List<SentSegment> Deliver(TcpHeader segment, byte[]? payload = null)
    {
        Tcb.Receive(segment, payload ?? [], Now);
        return Poll();
    }

    public List<SentSegment> Poll()
    {
        Tcb.Poll(Now, Sink);
        return Sink.Take();
    }

    /// <summary>Moves virtual time forward, polling at every deadline on the way.</summary>
    public List<SentSegment> Advance(TimeSpan by)
    {
        var end = Now + by;
        var sent = new List<SentSegment>();
        while (Tcb.PollAt is TimeSpan at && (at == TimeSpan.Zero ? Now : at) <= end)
        {
            if (at > Now) Now = at;
            sent.AddRange(Poll());
        }
        Now = end;
        return sent;
    }

    public static TcpHarness SynSent(TcpSettings? settings = null)
    {
        var counters = new TcpCounters();
        var tcb = TcpControlBlock.Connect(settings ?? Plain, counters, Connection, new TcpSeqNumber(LocalIss), TimeSpan.FromSeconds(100));
        var h = new TcpHarness(tcb, counters);
        var syn = h.Poll();
        Assert.Equal(TcpFlags.Syn, Assert.Single(syn).Flags);
        return h;
    }

    /// <summary>The options the scripted peer puts on its SYN: MSS 1000 only.</summary>
    public static readonly TcpOptions PeerSynOptions = new() { MaxSegmentSize = 1000 };

    public static TcpHarness SynReceived(TcpSettings? settings = null, TcpOptions? synOptions = null)
    {
        var counters = new TcpCounters();
        var syn = new TcpHeader(80, 49200, new TcpSeqNumber(RemoteIss), default, TcpFlags.Syn, 8000, synOptions ?? PeerSynOptions);
        var tcb = TcpControlBlock.Accept(settings ?? Plain, counters, Connection, new TcpSeqNumber(LocalIss), syn, TimeSpan.FromSeconds(100));
        var h = new TcpHarness(tcb, counters);
        var synAck = h.Poll();
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, Assert.Single(synAck).Flags);
        return h;
    }

    public static TcpHarness Established(TcpSettings? settings = null)
    {
        var h = SynSent(settings);
        var synAck = h.Segment(TcpFlags.Syn | TcpFlags.Ack, seq: RemoteIss, ack: LocalIss + 1) with { Options = PeerSynOptions };
        var reply = h.Deliver(synAck);
        Assert.Equal(TcpState.Established, h.Tcb.State);
        Assert.Equal(TcpFlags.Ack, Assert.Single(reply).Flags);
        h.Tcb.TakeEvents();
        return h;
    }

    /// <summary>We closed first and the peer acknowledged our FIN.</summary>
    public static TcpHarness FinWait2()
    {
        var h = Established();
        h.Tcb.Close();
        Assert.Equal(TcpFlags.Fin | TcpFlags.Ack, Assert.Single(h.Poll()).Flags);
        h.Deliver(h.Segment());
        Assert.Equal(TcpState.FinWait2, h.Tcb.State);
        return h;
    }

    /// <summary>The peer closed first.</summary>
    public static TcpHarness CloseWait()
    {
        var h = Established();
        h.Deliver(h.Segment(TcpFlags.Fin | TcpFlags.Ack));
        h.PeerSeq++;
        Assert.Equal(TcpState.CloseWait, h.Tcb.State);
        h.Tcb.TakeEvents();
        return h;
    }

    public static byte[] Bytes(int count, int seed = 1)
    {
        var data = new byte[count];
        new Random(seed).NextBytes(data);
        return data;
    }
}

/// <summary>Reads a connection's Input to its end, for tests that check what arrived.</summary>
internal static class PipeReading
{
    public static async Task<byte[]> ReadToEndAsync(PipeReader reader)
    {
        var all = new MemoryStream();
        while (true)
        {
            var result = await reader.ReadAsync();
            foreach (var segment in result.Buffer) all.Write(segment.Span);
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) break;
        }
        await reader.CompleteAsync();
        return all.ToArray();
    }
}
