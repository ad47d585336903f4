using System.Buffers;
using Apps.Stack.Arp;
using Apps.Stack.Netif;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// A SYN flood from spoofed addresses against a whole <see cref="NetworkStack"/> on the switch: state
/// stays within the SYN queue and the ARP table, the rest is answered with cookies, and a real client
/// still connects, with its options, in the middle of it.
/// </summary>
public class SynFloodOverSwitchTests
{
    private static readonly Ipv4Address Server = Ipv4Address.Parse("10.0.0.2");
    private static readonly MacAddress FlooderMac = new(0x0200_0000_00AAUL);

    // Ethernet + IPv4 + a SYN offering every option, as a kernel's would.
    private static byte[] SpoofedSyn(MacAddress to, Ipv4Address source, ushort port, uint isn)
    {
        var tcp = new TcpHeader(port, 80, new TcpSeqNumber(isn), default, TcpFlags.Syn, 64240, new TcpOptions
        {
            MaxSegmentSize = 1460, WindowScale = 7, SackPermitted = true, Timestamps = new TcpTimestamps(isn ^ 0x5A5A, 0),
        });
        int ipLength = Ipv4Header.MinLength + tcp.Length;
        var frame = new byte[EthernetHeader.Length + ipLength];
        new EthernetHeader(to, FlooderMac, (ushort)EtherType.Ipv4).Emit(frame);
        new Ipv4Header(0, (ushort)ipLength, (ushort)isn, false, false, 0, 64, IpProtocol.Tcp, source, Server)
            .Emit(frame.AsSpan(EthernetHeader.Length));
        var segment = frame.AsSpan(EthernetHeader.Length + Ipv4Header.MinLength);
        tcp.Emit(segment);
        TcpHeader.WriteChecksum(segment, source, Server);
        return frame;
    }

    [Fact]
    public async Task Spoofed_syn_flood_keeps_state_bounded_and_a_real_client_still_connects()
    {
        using var net = new SimulatedNetwork(seed: 11);
        var client = net.AddStack("10.0.0.1/24");
        var server = net.AddStack("10.0.0.2/24");
        await using var listener = await server.ListenTcpAsync(80, backlog: 16, synQueueLimit: 32);
        var flooder = net.Switch.CreatePort();
        flooder.Start(_ => { });
        var random = new Random(21);

        async Task FloodAsync(int count)
        {
            for (int i = 0; i < count; i++)
            {
                // Half on the link (each costs an ARP entry that never resolves), half off it (no route).
                var source = i % 2 == 0
                    ? new Ipv4Address(0x0A00_0000u | (uint)random.Next(3, 255) << 8 | (uint)random.Next(1, 255))
                    : new Ipv4Address((uint)random.Next(0x0B00_0000, 0x7F00_0000));
                flooder.Transmit(SpoofedSyn(server.MacAddress, source, (ushort)random.Next(1024, 65535), (uint)random.Next()));
                if (i % 500 == 499) await net.SettleAsync(); // stay under the loop's frame queue
            }
            await net.SettleAsync();
        }

        await FloodAsync(5000);
        var counters = server.TcpCounters()!;
        Assert.True(counters.ConnectionsAccepted <= 32, $"state kept for {counters.ConnectionsAccepted} spoofed SYNs");
        Assert.True(counters.SynCookiesSent >= 5000 - 32 - counters.ResetsSuppressed, $"{counters.SynCookiesSent} cookies");
        Assert.True(server.Interface.NeighbourCount <= ArpCache.MaxEntries);

        var accept = listener.AcceptAsync().AsTask();
        var connect = client.ConnectTcpAsync(Server, 80);
        await FloodAsync(1000); // still flooding while the real handshake runs
        var connection = await net.RunAsync(connect, step: TimeSpan.FromMilliseconds(50));
        var accepted = await net.RunAsync(accept);

        await connection.Output.WriteAsync("through the flood"u8.ToArray());
        await connection.Output.CompleteAsync();
        var read = await net.RunAsync(accepted.Input.ReadAtLeastAsync(17).AsTask());
        Assert.Equal("through the flood"u8.ToArray(), read.Buffer.ToArray());
        Assert.Equal(1, counters.SynCookiesAccepted);
        await net.SettleAsync();
        Assert.True(accepted.Core.SackEnabled && accepted.Core.TimestampsEnabled); // the cookie kept them
        Assert.Null(server.Loop.LastError);
    }
}
