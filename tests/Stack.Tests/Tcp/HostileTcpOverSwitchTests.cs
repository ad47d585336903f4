using System.Buffers;
using Apps.Stack.Arp;
using Apps.Stack.Netif;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// Spoofed TCP against a whole <see cref="NetworkStack"/> on the switch. A SYN flood: state stays
/// within the SYN queue and the ARP table, the rest is answered with cookies, and a real client still
/// connects, with its options, in the middle of it. A blind attacker who knows the ports but not the
/// sequence numbers (RFC 5961): resets, SYNs and data do not break the connection.
/// </summary>
public class HostileTcpOverSwitchTests
{
    private static readonly Ipv4Address Server = Ipv4Address.Parse("10.0.0.2");
    private static readonly MacAddress FlooderMac = new(0x0200_0000_00AAUL);

    // Ethernet + IPv4 + a SYN offering every option, as a kernel's would.
    private static byte[] SpoofedSyn(MacAddress to, Ipv4Address source, ushort port, uint isn) =>
        Frame(to, source, new TcpHeader(port, 80, new TcpSeqNumber(isn), default, TcpFlags.Syn, 64240, new TcpOptions
        {
            MaxSegmentSize = 1460, WindowScale = 7, SackPermitted = true, Timestamps = new TcpTimestamps(isn ^ 0x5A5A, 0),
        }), default);

    private static byte[] Frame(MacAddress to, Ipv4Address source, TcpHeader tcp, ReadOnlySpan<byte> payload)
    {
        int ipLength = Ipv4Header.MinLength + tcp.Length + payload.Length;
        var frame = new byte[EthernetHeader.Length + ipLength];
        new EthernetHeader(to, FlooderMac, (ushort)EtherType.Ipv4).Emit(frame);
        new Ipv4Header(0, (ushort)ipLength, (ushort)tcp.Sequence.Value, false, false, 0, 64, IpProtocol.Tcp, source, Server)
            .Emit(frame.AsSpan(EthernetHeader.Length));
        var segment = frame.AsSpan(EthernetHeader.Length + Ipv4Header.MinLength);
        tcp.Emit(segment);
        payload.CopyTo(segment[tcp.Length..]);
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
        flooder.Start((ReadOnlySpan<byte> _, in FrameOffload _) => { });
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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Blind_resets_syns_and_data_with_guessed_sequence_numbers_do_not_break_a_connection(bool timestamps)
    {
        using var net = new SimulatedNetwork(seed: 12);
        var client = net.AddStack("10.0.0.1/24");
        var server = net.AddStack("10.0.0.2/24");
        var settings = new TcpSettings { Timestamps = timestamps };
        await client.UseTcpAsync(settings);
        await server.UseTcpAsync(settings);
        await using var listener = await server.ListenTcpAsync(80);
        var accept = listener.AcceptAsync().AsTask();
        var connection = await net.RunAsync(client.ConnectTcpAsync(Server, 80));
        var accepted = await net.RunAsync(accept);
        var flooder = net.Switch.CreatePort();
        flooder.Start((ReadOnlySpan<byte> _, in FrameOffload _) => { });

        // The attacker knows the 4-tuple (the client's address and port) but must guess the numbers.
        var clientAddress = Ipv4Address.Parse("10.0.0.1");
        var clientPort = (ushort)connection.LocalEndPoint.Port;
        var random = new Random(8);
        for (int i = 0; i < 3000; i++)
        {
            var seq = new TcpSeqNumber((uint)random.Next() * 2);
            var ack = new TcpSeqNumber((uint)random.Next() * 2);
            var header = (i % 3) switch
            {
                0 => new TcpHeader(clientPort, 80, seq, default, TcpFlags.Rst, 0),
                1 => new TcpHeader(clientPort, 80, seq, default, TcpFlags.Syn, 64240),
                _ => new TcpHeader(clientPort, 80, seq, ack, TcpFlags.Ack | TcpFlags.Psh, 64240),
            };
            flooder.Transmit(Frame(server.MacAddress, clientAddress, header, i % 3 == 2 ? "forged"u8 : default));
            if (i % 500 == 499) await net.SettleAsync();
        }
        await net.SettleAsync();

        await connection.Output.WriteAsync("still here"u8.ToArray());
        var read = await net.RunAsync(accepted.Input.ReadAtLeastAsync(10).AsTask());
        Assert.Equal("still here"u8.ToArray(), read.Buffer.ToArray());
        accepted.Input.AdvanceTo(read.Buffer.End);
        var counters = server.TcpCounters()!;
        Assert.Equal(0, counters.ResetsSent);
        // Resets outside the window are dropped (RFC 5961 §3).
        Assert.True(counters.OutOfWindowResets + counters.ChallengeAcks >= 1000, $"rst {counters.OutOfWindowResets}, challenge {counters.ChallengeAcks}");
        if (timestamps)
        {
            // The SYNs and data lack the timestamps this connection agreed on: dropped first (RFC 7323 §3.2).
            Assert.True(counters.PawsRejected >= 2000, $"{counters.PawsRejected} dropped without timestamps");
        }
        else
        {
            // Out-of-window SYNs and data are acknowledged and dropped; in-window SYNs get a challenge ACK
            // (RFC 5961 §4), data with a bad ACK is refused (§5).
            long refused = counters.OutOfWindowSegments + counters.ChallengeAcks + counters.ChallengeAcksSuppressed + counters.InvalidAcks;
            Assert.True(refused >= 2000, $"window {counters.OutOfWindowSegments}, challenge {counters.ChallengeAcks}+{counters.ChallengeAcksSuppressed}, ack {counters.InvalidAcks}");
        }
        Assert.Null(server.Loop.LastError);
    }
}
