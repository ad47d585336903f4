using System.Security.Cryptography;
using Apps.Stack.Tcp;

namespace Apps.Stack.Tests.Tcp;

/// <summary>Two connection cores back to back over a simulated link, with and without impairments.</summary>
public class TransferTests
{
    private const ushort Port = 8080;

    private sealed class Transfer
    {
        public required TcpControlBlock Client;
        public TcpControlBlock? Server;
        public int Written;
        public long Received;
        public bool ServerSawEnd;
        public readonly IncrementalHash Hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    }

    private static (TcpLinkSimulator Net, Transfer T, byte[] Data, bool Done) Run(
        int bytes, int seed, double loss, double dup, double reorder, TcpSettings? settings = null, TimeSpan? limit = null)
    {
        settings ??= new TcpSettings { MinRto = TimeSpan.FromMilliseconds(200) };
        var net = new TcpLinkSimulator(seed, settings) { Loss = loss, Duplication = dup, Reordering = reorder };
        var listener = net.B.Listen(Port);
        var data = TcpLinkSimulator.Data(bytes, seed);
        var t = new Transfer { Client = net.A.Connect(TcpLinkSimulator.AddressA, TcpLinkSimulator.AddressB, Port, net.Now) };
        var buffer = new byte[65536];
        void Pump()
        {
            if (t.Client.State is TcpState.Established or TcpState.CloseWait && t.Written < data.Length)
            {
                t.Written += t.Client.Send(data.AsSpan(t.Written));
                if (t.Written == data.Length) t.Client.Close();
            }
            t.Server ??= listener.TryAccept();
            if (t.Server is null) return;
            int n;
            while ((n = t.Server.Read(buffer)) > 0)
            {
                t.Hash.AppendData(buffer, 0, n);
                t.Received += n;
            }
            if (t.Server.PeerClosed && t.Server.Available == 0 && !t.ServerSawEnd)
            {
                t.ServerSawEnd = true;
                t.Server.Close();
            }
        }
        bool done = net.RunUntil(
            () => t.ServerSawEnd && t.Client.State is TcpState.TimeWait or TcpState.Closed && t.Server!.State == TcpState.Closed,
            limit ?? TimeSpan.FromHours(2), Pump);
        return (net, t, data, done);
    }

    [Fact]
    public void Transfers_data_intact_over_a_clean_link_and_closes_both_sides()
    {
        var (net, t, data, done) = Run(200_000, seed: 1, 0, 0, 0);
        Assert.True(done);
        Assert.Equal(data.Length, t.Received);
        Assert.Equal(SHA256.HashData(data), t.Hash.GetHashAndReset());
        Assert.Equal(0, net.A.Counters.Retransmissions);
        Assert.Equal(TcpState.TimeWait, t.Client.State);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Transfers_data_intact_with_loss_reordering_and_duplication(int seed)
    {
        var (net, t, data, done) = Run(300_000, seed, 0.05, 0.05, 0.1);
        Assert.True(done, $"stalled at {t.Received} of {data.Length}; client {t.Client.State}, server {t.Server?.State}");
        Assert.Equal(SHA256.HashData(data), t.Hash.GetHashAndReset());
        Assert.True(net.Dropped > 0 && net.Duplicated > 0 && net.Reordered > 0);
        Assert.True(net.A.Counters.Retransmissions > 0);
    }

    [Fact]
    public void Transfers_several_megabytes_with_ten_percent_loss_reordering_and_duplication()
    {
        var (net, t, data, done) = Run(4 * 1024 * 1024, seed: 42, 0.10, 0.05, 0.10);
        Assert.True(done, $"stalled at {t.Received} of {data.Length}");
        Assert.Equal(data.Length, t.Received);
        Assert.Equal(SHA256.HashData(data), t.Hash.GetHashAndReset());
        Assert.True(net.A.Counters.FastRetransmits > 0);
    }

    [Fact]
    public void Transfers_without_sack_timestamps_or_window_scaling()
    {
        var settings = new TcpSettings
        {
            SelectiveAck = false, Timestamps = false, WindowScaling = false, MinRto = TimeSpan.FromMilliseconds(200),
            ReceiveBufferSize = 32768, SendBufferSize = 32768,
        };
        var (_, t, data, done) = Run(300_000, seed: 7, 0.05, 0.02, 0.05, settings);
        Assert.True(done, $"stalled at {t.Received} of {data.Length}");
        Assert.Equal(SHA256.HashData(data), t.Hash.GetHashAndReset());
    }

    [Fact]
    public void Negotiates_window_scale_timestamps_and_sack_between_two_cores()
    {
        var (_, t, _, done) = Run(1000, seed: 9, 0, 0, 0);
        Assert.True(done);
        Assert.True(t.Client.TimestampsEnabled && t.Client.SackEnabled);
        Assert.Equal(t.Server!.ReceiveWindowScale, t.Client.SendWindowScale);
        Assert.Equal(3, t.Client.ReceiveWindowScale); // 262144 >> 2 is 65536, one too many for 16 bits
        Assert.Equal(1460 - 12, t.Client.SendMss);
    }

    [Fact]
    public void Transfers_100_megabytes_both_ways_with_ten_percent_loss_reordering_and_duplication()
    {
        // Issue 5's impaired bulk run, between two cores (serialized, checksummed segments) in virtual time.
        const int Size = 100 * 1024 * 1024;
        var net = new TcpLinkSimulator(77, new TcpSettings { MinRto = TimeSpan.FromMilliseconds(200) })
        {
            Loss = 0.10, Duplication = 0.05, Reordering = 0.10,
        };
        var listener = net.B.Listen(Port);
        var client = net.A.Connect(TcpLinkSimulator.AddressA, TcpLinkSimulator.AddressB, Port, net.Now);
        TcpControlBlock? server = null;
        var chunk = new byte[64 * 1024];
        new Random(3).NextBytes(chunk);
        long up = 0, down = 0, gotUp = 0, gotDown = 0;
        using var sentUp = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var sentDown = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var hashUp = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var hashDown = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[256 * 1024];

        // Each side sends Size bytes: the chunk, its first byte bumped each round so data differs.
        static long Push(TcpControlBlock tcb, byte[] chunk, long sent, IncrementalHash hash)
        {
            while (sent < Size && tcb.CanSend)
            {
                int offset = (int)(sent % chunk.Length);
                if (offset == 0) chunk[0]++;
                int n = tcb.Send(chunk.AsSpan(offset, (int)Math.Min(chunk.Length - offset, Size - sent)));
                if (n == 0) break;
                hash.AppendData(chunk, offset, n);
                sent += n;
                if (sent == Size) tcb.Close();
            }
            return sent;
        }
        static long Pull(TcpControlBlock tcb, byte[] buffer, long got, IncrementalHash hash)
        {
            int n;
            while ((n = tcb.Read(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                got += n;
            }
            return got;
        }
        var chunkDown = (byte[])chunk.Clone();
        bool done = net.RunUntil(
            () => gotUp == Size && gotDown == Size && client.PeerClosed && server!.PeerClosed,
            TimeSpan.FromHours(2),
            () =>
            {
                if (client.State == TcpState.SynSent) return;
                up = Push(client, chunk, up, sentUp);
                gotDown = Pull(client, buffer, gotDown, hashDown);
                server ??= listener.TryAccept();
                if (server is null) return;
                down = Push(server, chunkDown, down, sentDown);
                gotUp = Pull(server, buffer, gotUp, hashUp);
            });

        Assert.True(done, $"stalled: up {gotUp}/{Size}, down {gotDown}/{Size}");
        Assert.Equal(sentUp.GetHashAndReset(), hashUp.GetHashAndReset());
        Assert.Equal(sentDown.GetHashAndReset(), hashDown.GetHashAndReset());
        Assert.True(net.Dropped > 0 && net.Duplicated > 0 && net.Reordered > 0);
    }
}
