using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Text;
using Apps.Stack.Netif;
using Apps.Stack.Tcp;
using Apps.Stack.Tests.Interop;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// Our TCP against the Linux kernel's, over a TAP device in a network namespace each test creates
/// and removes (<see cref="KernelPeer"/>). Real time; outcomes are asserted, never timings.
/// </summary>
public class TcpKernelInteropTests
{
    private const string KernelAddress = "10.78.0.1";
    private const string OurAddress = "10.78.0.2";
    private const int BulkBytes = 100 * 1024 * 1024; // issue 5: 100 MB both ways

    private static NetworkStack CreateStack(INetworkInterface netif) =>
        new(netif, new NetworkStackOptions { Name = "tcp-interop", Address = Ipv4Settings.Parse($"{OurAddress}/24") });

    private static async Task<byte[]> ReadAllAsync(PipeReader reader, IncrementalHash? hash = null, CancellationToken cancellationToken = default)
    {
        var all = hash is null ? new MemoryStream() : null;
        long total = 0;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            foreach (var segment in result.Buffer)
            {
                all?.Write(segment.Span);
                hash?.AppendData(segment.Span);
                total += segment.Length;
            }
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) break;
        }
        await reader.CompleteAsync();
        return all?.ToArray() ?? BitConverter.GetBytes(total);
    }

    private static async Task<TcpConnection> ConnectWithRetryAsync(NetworkStack stack, ushort port)
    {
        // The Linux listener needs a moment to bind: a refusal means "not yet".
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await stack.ConnectTcpAsync(Ipv4Address.Parse(KernelAddress), port, TimeSpan.FromSeconds(10));
            }
            catch (TcpConnectionException e) when (e.Error == TcpError.ConnectionRefused && attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    [Fact]
    public async Task Curl_on_linux_fetches_from_a_server_on_our_stack_and_the_pcap_decodes_cleanly()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        var pcap = Path.Combine(Path.GetTempPath(), $"apps-tcp-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var stack = CreateStack(PcapRecorder.ToFile(peer.Tap, pcap, TimeProvider.System)))
            {
                await using var listener = await stack.ListenTcpAsync(8080);
                var serve = Task.Run(async () =>
                {
                    await using var connection = await listener.AcceptAsync();
                    var request = new StringBuilder();
                    while (!request.ToString().Contains("\r\n\r\n"))
                    {
                        var result = await connection.Input.ReadAsync();
                        foreach (var segment in result.Buffer) request.Append(Encoding.ASCII.GetString(segment.Span));
                        connection.Input.AdvanceTo(result.Buffer.End);
                        if (result.IsCompleted) break;
                    }
                    await connection.Output.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 17\r\nConnection: close\r\n\r\nhello from stack\n"u8.ToArray());
                    return request.ToString();
                });

                var curl = await peer.ExecAsync($"curl -sS --max-time 20 http://{OurAddress}:8080/index.html", timeout: TimeSpan.FromSeconds(30));

                Assert.True(curl.ExitCode == 0, curl.ToString());
                Assert.Equal("hello from stack\n", curl.Stdout);
                Assert.StartsWith("GET /index.html HTTP/1.1\r\n", await serve.WaitAsync(TimeSpan.FromSeconds(10)));
            }

            // Wireshark's dissector checks every checksum and flags malformed or out-of-spec segments.
            var tshark = await HostCommand.RunAsync("tshark",
                $"-r {pcap} -o tcp.check_checksum:TRUE -Y \"tcp.checksum.status == 0 || _ws.malformed || tcp.analysis.flags && !tcp.analysis.window_update\"");
            Assert.True(tshark.ExitCode == 0, tshark.ToString());
            Assert.Equal("", tshark.Stdout.Trim());
            var all = await HostCommand.RunAsync("tshark", $"-r {pcap} -Y tcp");
            Assert.Contains("[SYN, ACK]", all.Stdout);
            Assert.Contains("[FIN, ACK]", all.Stdout);
        }
        finally
        {
            File.Delete(pcap);
        }
    }

    [Fact]
    public async Task Our_stack_talks_to_a_linux_echo_server()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        using var stack = CreateStack(peer.Tap);
        peer.StartProcess("socat TCP-LISTEN:9000,reuseaddr EXEC:cat");

        await using var connection = await ConnectWithRetryAsync(stack, 9000);
        await connection.Output.WriteAsync("echo me, linux"u8.ToArray());
        await connection.Output.CompleteAsync();
        var echoed = await ReadAllAsync(connection.Input).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("echo me, linux"u8.ToArray(), echoed);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Bulk_transfer_from_linux_to_our_stack_arrives_intact(bool offloads)
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24", offloads: offloads);
        var file = Path.Combine(Path.GetTempPath(), $"apps-tcp-{Guid.NewGuid():N}.bin");
        try
        {
            var data = new byte[BulkBytes];
            new Random(21).NextBytes(data);
            await File.WriteAllBytesAsync(file, data);
            using var stack = CreateStack(peer.Tap);
            await using var listener = await stack.ListenTcpAsync(7001);

            var sender = peer.ExecAsync($"socat -u OPEN:{file} TCP:{OurAddress}:7001", timeout: TimeSpan.FromMinutes(3));
            await using var connection = await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await ReadAllAsync(connection.Input, hash).WaitAsync(TimeSpan.FromMinutes(3));
            var r = await sender;

            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(SHA256.HashData(data), hash.GetHashAndReset());
            // With offloads Linux hands us GSO super-frames with partial checksums, and none is malformed.
            Assert.Equal(0, peer.Tap.HeaderDrops);
            if (offloads)
                Assert.True(peer.Tap.SegmentedFramesReceived > 0, "Linux sent no super-frame");
            else
                Assert.Equal(0, peer.Tap.SegmentedFramesReceived);
            Assert.Equal(0, stack.Counters.Drops(DropReason.BadChecksum));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Bulk_transfer_from_our_stack_to_linux_arrives_intact(bool offloads)
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24", offloads: offloads);
        var file = Path.Combine(Path.GetTempPath(), $"apps-tcp-{Guid.NewGuid():N}.bin");
        try
        {
            var data = new byte[BulkBytes];
            new Random(22).NextBytes(data);
            using var stack = CreateStack(peer.Tap);
            var receiver = peer.StartProcess($"socat -u TCP-LISTEN:9001,reuseaddr OPEN:{file},creat,trunc");

            await using (var connection = await ConnectWithRetryAsync(stack, 9001))
            {
                for (int offset = 0; offset < data.Length; offset += 1 << 20)
                    await connection.Output.WriteAsync(data.AsMemory(offset, Math.Min(1 << 20, data.Length - offset)));
                await connection.Output.CompleteAsync();
                // socat exits once it has read our FIN and written the file.
                await receiver.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
            }

            Assert.Equal(0, receiver.ExitCode);
            Assert.Equal(SHA256.HashData(data), SHA256.HashData(await File.ReadAllBytesAsync(file)));
            // With offloads our TCP sent TSO bursts (partial checksums, gso_size = MSS) the kernel took.
            if (offloads)
                Assert.True(peer.Tap.SegmentedFramesSent > 0, "we sent no TSO frame");
            else
                Assert.Equal(0, peer.Tap.SegmentedFramesSent);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Linux_connection_to_a_closed_port_is_refused_by_our_reset()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        using var stack = CreateStack(peer.Tap);
        await using var listener = await stack.ListenTcpAsync(1); // TCP on, nothing on 7002

        var r = await peer.ExecAsync($"socat -T 5 - TCP:{OurAddress}:7002,connect-timeout=5", stdin: "x");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Connection refused", r.Stderr);
    }

    [Fact]
    public async Task Transfers_with_linux_survive_loss_reordering_and_duplication_both_ways()
    {
        // The impairing wrapper copies frames without their offload metadata: a plain TAP device.
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24", offloads: false);
        var impaired = new ImpairedInterface(peer.Tap, seed: 11, loss: 0.03, duplication: 0.02, reordering: 0.05);
        var dir = Directory.CreateTempSubdirectory("apps-tcp-");
        try
        {
            var up = new byte[8 << 20];
            var down = new byte[8 << 20];
            new Random(31).NextBytes(up);
            new Random(32).NextBytes(down);
            await File.WriteAllBytesAsync(Path.Combine(dir.FullName, "down"), down);
            using var stack = CreateStack(impaired);
            await stack.UseTcpAsync(new TcpSettings { MinRto = TimeSpan.FromMilliseconds(200) });
            await using var listener = await stack.ListenTcpAsync(7003);
            var receiver = peer.StartProcess($"socat -u TCP-LISTEN:9003,reuseaddr OPEN:{dir.FullName}/up,creat,trunc");

            // Linux -> us.
            var sender = peer.ExecAsync($"socat -u OPEN:{dir.FullName}/down TCP:{OurAddress}:7003", timeout: TimeSpan.FromMinutes(3));
            await using (var inbound = await listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)))
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                await ReadAllAsync(inbound.Input, hash).WaitAsync(TimeSpan.FromMinutes(3));
                Assert.Equal(SHA256.HashData(down), hash.GetHashAndReset());
            }
            Assert.Equal(0, (await sender).ExitCode);

            // Us -> Linux.
            await using (var outbound = await ConnectWithRetryAsync(stack, 9003))
            {
                await outbound.Output.WriteAsync(up);
                await outbound.Output.CompleteAsync();
                await receiver.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
            }
            Assert.Equal(SHA256.HashData(up), SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(dir.FullName, "up"))));
            Assert.True(impaired.Dropped > 0 && impaired.Duplicated > 0 && impaired.Reordered > 0);
            Assert.True(stack.TcpCounters()!.Retransmissions > 0);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Linux_completes_a_handshake_answered_with_a_syn_cookie()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        using var stack = CreateStack(peer.Tap);
        await using var listener = await stack.ListenTcpAsync(7004, synQueueLimit: 0); // every SYN gets a cookie
        var agreed = (Sack: false, Timestamps: false, WindowScale: (byte)0);
        var serve = Task.Run(async () =>
        {
            await using var connection = await listener.AcceptAsync();
            // Set once when the cookie ACK arrived, before the connection was queued for accepting.
            agreed = (connection.Core.SackEnabled, connection.Core.TimestampsEnabled, connection.Core.SendWindowScale);
            var request = await ReadAllAsync(connection.Input);
            await connection.Output.WriteAsync(request.Reverse().ToArray());
        });

        var r = await peer.ExecAsync($"socat -t 5 - TCP:{OurAddress}:7004,shut-down", stdin: "cookie");

        await serve.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("eikooc", r.Stdout);
        Assert.Equal(1, stack.TcpCounters()!.SynCookiesAccepted);
        // Linux offers timestamps, SACK and window scaling: the cookie kept all three.
        Assert.True(agreed.Sack && agreed.Timestamps, $"{agreed}");
        Assert.True(agreed.WindowScale > 0, $"{agreed}");
    }
}
