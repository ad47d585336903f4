using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// Seeded random segments (any flags, sequence and acknowledgment numbers around the windows, SACK
/// blocks, timestamps, payloads) thrown at connections in every state, interleaved with application
/// calls and time: nothing may throw, and the core's invariants must hold after every step.
/// </summary>
public class RandomSegmentTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public void Random_segments_never_break_the_connection_core(int seed, bool options)
    {
        var rng = new Random(seed);
        for (int run = 0; run < 40; run++)
        {
            var h = (run % 5) switch
            {
                0 => TcpHarness.SynSent(options ? TcpHarness.Full : null),
                1 => TcpHarness.SynReceived(options ? TcpHarness.Full : null),
                2 => TcpHarness.FinWait2(),
                3 => TcpHarness.CloseWait(),
                _ => options ? TcpHarness.EstablishedWithOptions() : TcpHarness.Established(),
            };
            var sink = new CapturingSink();
            var now = h.Now;
            var buffer = new byte[4096];
            for (int step = 0; step < 500 && h.Tcb.State != TcpState.Closed; step++)
            {
                switch (rng.Next(10))
                {
                    case 0:
                        if (h.Tcb.CanSend) h.Tcb.Send(new byte[rng.Next(0, 3000)]);
                        break;
                    case 1:
                        h.Tcb.Read(buffer);
                        break;
                    case 2:
                        if (rng.Next(20) == 0) h.Tcb.Close();
                        break;
                    case 3:
                        now += TimeSpan.FromMilliseconds(rng.Next(0, 3000));
                        break;
                    default:
                        h.Tcb.Receive(RandomSegment(rng, h.Tcb, options), new byte[rng.Next(0, 4) == 0 ? rng.Next(1, 1500) : 0], now);
                        break;
                }
                h.Tcb.Poll(now, sink);
                AssertInvariants(h.Tcb);
            }
        }
    }

    private static TcpHeader RandomSegment(Random rng, TcpControlBlock tcb, bool options)
    {
        uint Near(TcpSeqNumber center) => unchecked(center.Value + (uint)rng.Next(-70_000, 70_000));
        var flags = (TcpFlags)rng.Next(0, 64);
        if (rng.Next(3) > 0) flags = (flags | TcpFlags.Ack) & ~(TcpFlags.Syn | TcpFlags.Rst); // mostly plausible ACKs
        var o = new TcpOptions();
        if (options && rng.Next(10) > 0) o = o with { Timestamps = new TcpTimestamps((uint)rng.Next(400, 100_000), (uint)rng.Next()) };
        if (rng.Next(4) == 0)
        {
            var blocks = new TcpSackBlock[rng.Next(1, 4)];
            for (int i = 0; i < blocks.Length; i++)
            {
                var left = new TcpSeqNumber(Near(tcb.SndUna));
                blocks[i] = new TcpSackBlock(left, left + rng.Next(-100, 5000));
            }
            o = o with { Sack = new TcpSackBlocks(blocks) };
        }
        return new TcpHeader(80, 49200, new TcpSeqNumber(Near(tcb.RcvNxt)), new TcpSeqNumber(Near(tcb.SndUna)), flags, (ushort)rng.Next(), o);
    }

    private static void AssertInvariants(TcpControlBlock tcb)
    {
        Assert.True(tcb.SndUna <= tcb.SndNxt, $"SND.UNA {tcb.SndUna} > SND.NXT {tcb.SndNxt}");
        Assert.True(tcb.SndNxt <= tcb.SndMax, $"SND.NXT {tcb.SndNxt} > SND.MAX {tcb.SndMax}");
        Assert.InRange(tcb.Available, 0, TcpHarness.Full.ReceiveBufferSize);
        Assert.InRange(tcb.Unacknowledged, 0, TcpHarness.Plain.SendBufferSize);
        Assert.True(tcb.CongestionWindow > 0);
    }
}
