using System.IO.Pipelines;
using System.Security.Cryptography;
using Apps.Stack.Netif;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// Issue 5's bulk runs through two whole <see cref="NetworkStack"/>s (loop threads, Ethernet, ARP,
/// IPv4, TCP, pipes) on the in-memory switch: 100 MB each way at once, SHA-256 checked, on a clean
/// link and on one with 10% loss plus reordering plus duplication. Virtual time jumps to the next
/// timer whenever both stacks are idle, so retransmission timeouts cost no real time.
/// </summary>
public class BulkTransferOverSwitchTests
{
    private const long Size = 100L * 1024 * 1024;
    private static readonly Ipv4Address B = Ipv4Address.Parse("10.0.0.2");

    private sealed record Outcome(byte[] SentUp, byte[] ReceivedUp, byte[] SentDown, byte[] ReceivedDown, TcpCounters A, TcpCounters B, long Dropped);

    // Impairments go on A's port only: every frame, either way, passes them exactly once.
    private static async Task<Outcome> RunBothWaysAsync(int seed, LinkImpairments impairments)
    {
        using var net = new SimulatedNetwork(seed);
        var a = net.AddStack("10.0.0.1/24", impairments);
        var b = net.AddStack("10.0.0.2/24");
        var settings = new TcpSettings { MinRto = TimeSpan.FromMilliseconds(200) };
        var ra = new Random(seed * 2);
        var rb = new Random(seed * 2 + 1);
        await a.UseTcpAsync(settings, bytes => ra.NextBytes(bytes));
        await b.UseTcpAsync(settings, bytes => rb.NextBytes(bytes));
        await using var listener = await b.ListenTcpAsync(5001);
        var accept = listener.AcceptAsync().AsTask();
        var client = await net.RunAsync(a.ConnectTcpAsync(B, 5001), limit: TimeSpan.FromMinutes(5));
        var server = await net.RunAsync(accept);

        var up = WriteAsync(client.Output, seed + 10);
        var down = WriteAsync(server.Output, seed + 20);
        var gotUp = ReadAsync(server.Input);
        var gotDown = ReadAsync(client.Input);
        await net.DriveAsync(Task.WhenAll(up, down, gotUp, gotDown), limit: TimeSpan.FromDays(1));
        return new Outcome(await up, await gotUp, await down, await gotDown, a.TcpCounters()!, b.TcpCounters()!, net.Switch.Dropped);
    }

    // Writes Size bytes of seeded data in 64 KiB chunks (no 100 MB array) and returns their SHA-256.
    private static Task<byte[]> WriteAsync(PipeWriter output, int seed) => Task.Run(async () =>
    {
        var chunk = new byte[64 * 1024];
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long sent = 0; sent < Size; sent += chunk.Length)
        {
            random.NextBytes(chunk);
            hash.AppendData(chunk);
            await output.WriteAsync(chunk);
        }
        await output.CompleteAsync();
        return hash.GetHashAndReset();
    });

    private static Task<byte[]> ReadAsync(PipeReader input) => Task.Run(async () =>
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long received = 0;
        while (true)
        {
            var result = await input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                hash.AppendData(segment.Span);
                received += segment.Length;
            }
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) break;
        }
        await input.CompleteAsync();
        Assert.Equal(Size, received);
        return hash.GetHashAndReset();
    });

    [Fact]
    public async Task Hundred_megabytes_cross_both_ways_at_once_over_a_clean_switch()
    {
        var outcome = await RunBothWaysAsync(seed: 1, LinkImpairments.None);
        Assert.Equal(outcome.SentUp, outcome.ReceivedUp);
        Assert.Equal(outcome.SentDown, outcome.ReceivedDown);
    }

    [Fact]
    public async Task Hundred_megabytes_cross_both_ways_at_once_with_ten_percent_loss_reordering_and_duplication()
    {
        var impaired = new LinkImpairments { Loss = 0.10, Duplication = 0.05, Reordering = 0.10 };
        var outcome = await RunBothWaysAsync(seed: 7, impaired);
        Assert.Equal(outcome.SentUp, outcome.ReceivedUp);
        Assert.Equal(outcome.SentDown, outcome.ReceivedDown);
        Assert.True(outcome.Dropped > 0);
        Assert.True(outcome.A.Retransmissions > 0 && outcome.B.Retransmissions > 0);
    }
}
