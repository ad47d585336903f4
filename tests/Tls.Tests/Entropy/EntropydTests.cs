using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using Apps.Tls.Entropy.HostProtocol;
using Apps.Tls.Entropy.Sources;

namespace Apps.Tls.Tests.Entropy;

/// <summary>The real <c>entropyd serve</c> process, driven over its Unix socket.</summary>
public sealed class EntropydTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("apps-entropyd-").FullName;
    private readonly List<Process> _processes = [];

    private string Socket => Path.Combine(_dir, "entropyd.sock");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (Process p in _processes)
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
            }
            p.Dispose();
        }
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<Process> StartDaemon(params string[] extra)
    {
        Process p = Entropyd.Start(["serve", "--unix", Socket, .. extra]);
        _processes.Add(p);
        string? line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null || !line.StartsWith("entropyd: serving", StringComparison.Ordinal))
        {
            // Only now read stderr to its end: the daemon has exited or printed something else.
            Assert.Fail($"entropyd did not start: {line} {await p.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(5))}");
        }
        // Drain stderr so that the daemon's log can never fill the pipe and stall it.
        _ = p.StandardError.ReadToEndAsync();
        return p;
    }

    private HostDaemonSource Guest() => new(HostEntropyAddress.Parse($"unix:{Socket}"));

    private async Task<System.Net.Sockets.Socket> RawConnect()
    {
        var s = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await s.ConnectAsync(new UnixDomainSocketEndPoint(Socket));
        return s;
    }

    private static async Task<(List<HostEntropyFrame> Frames, bool Closed)> ReadReplies(System.Net.Sockets.Socket s, int expected, TimeSpan timeout)
    {
        var frames = new List<HostEntropyFrame>();
        var buffer = new byte[64 * 1024];
        int filled = 0;
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            var seq = new ReadOnlySequence<byte>(buffer, 0, filled);
            while (HostEntropyFrameReader.TryRead(seq, out HostEntropyFrame f, out SequencePosition end, out _) == FrameReadResult.Frame)
            {
                frames.Add(f);
                seq = seq.Slice(end);
            }
            int left = (int)seq.Length;
            Buffer.BlockCopy(buffer, filled - left, buffer, 0, left);
            filled = left;
            if (frames.Count >= expected && expected > 0)
            {
                return (frames, false);
            }
            int n = await s.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cts.Token);
            if (n == 0)
            {
                return (frames, true);
            }
            filled += n;
        }
    }

    private async Task AssertServes()
    {
        await using HostDaemonSource guest = Guest();
        var bytes = new byte[64];
        Assert.Equal(64, await guest.RequestAsync(bytes, default));
        Assert.Contains(bytes, b => b != 0);
    }

    [Fact]
    public async Task Serves_bytes_end_to_end_over_a_unix_socket()
    {
        await StartDaemon();
        await using HostDaemonSource guest = Guest();
        var a = new byte[32];
        var b = new byte[4096];
        Assert.Equal(32, await guest.RequestAsync(a, default));
        Assert.Equal(4096, await guest.RequestAsync(b, default));
        Assert.NotEqual(a, b[..32]);
        Assert.True(b.Distinct().Count() > 200, "4 KiB of random bytes use most byte values");

        ExternalTool.Result fetched = Entropyd.Run("fetch", $"unix:{Socket}", "--bytes", "16");
        Assert.Equal(0, fetched.ExitCode);
        Assert.Matches("^[0-9a-f]{32}$", fetched.StdoutText.Trim());
    }

    [Fact]
    public async Task Malformed_frames_get_an_error_and_a_close_while_others_are_served()
    {
        await StartDaemon();
        using var bad = await RawConnect();
        await bad.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray(), SocketFlags.None);
        var (frames, closed) = await ReadReplies(bad, 0, TimeSpan.FromSeconds(10));
        Assert.Equal(HostEntropyError.UnsupportedVersion, Assert.Single(frames).ErrorCode);
        Assert.True(closed);

        using var bad2 = await RawConnect();
        await bad2.SendAsync(new byte[] { 1, 0x7F, 0, 0 }, SocketFlags.None);
        (frames, closed) = await ReadReplies(bad2, 0, TimeSpan.FromSeconds(10));
        Assert.Equal(HostEntropyError.Malformed, Assert.Single(frames).ErrorCode);
        Assert.True(closed);

        await AssertServes();
    }

    [Fact]
    public async Task Oversized_request_is_refused_and_the_connection_goes_on()
    {
        await StartDaemon("--max-request", "1024");
        using var s = await RawConnect();
        var w = new ArrayBufferWriter<byte>();
        HostEntropyFrame.WriteRequest(w, 5000);
        HostEntropyFrame.WriteRequest(w, 1024);
        await s.SendAsync(w.WrittenMemory, SocketFlags.None);
        var (frames, _) = await ReadReplies(s, 2, TimeSpan.FromSeconds(10));
        Assert.Equal(HostEntropyError.TooLarge, frames[0].ErrorCode);
        Assert.Equal(1024, frames[1].Body.Length);
    }

    [Fact]
    public async Task A_client_that_vanishes_mid_request_or_dawdles_costs_only_its_own_connection()
    {
        await StartDaemon("--frame-timeout", "1");
        using (var vanishing = await RawConnect())
        {
            await vanishing.SendAsync(new byte[] { 1, 1, 0 }, SocketFlags.None);
        }
        using var slow = await RawConnect();
        await slow.SendAsync(new byte[] { 1, 1 }, SocketFlags.None); // half a header, then nothing

        await AssertServes();

        var (frames, closed) = await ReadReplies(slow, 0, TimeSpan.FromSeconds(20));
        Assert.True(closed, "the daemon closes a connection whose frame never completes");
        Assert.Empty(frames);
        await AssertServes();
    }

    [Fact]
    public async Task Serves_100_concurrent_clients()
    {
        await StartDaemon();
        var guests = Enumerable.Range(0, 100).Select(_ => Guest()).ToArray();
        try
        {
            var results = await Task.WhenAll(guests.Select(async g =>
            {
                var all = new List<byte[]>();
                for (int i = 0; i < 10; i++)
                {
                    var b = new byte[256];
                    Assert.Equal(256, await g.RequestAsync(b, default));
                    all.Add(b);
                }
                return all;
            }));
            var distinct = results.SelectMany(r => r).Select(Convert.ToHexString).ToHashSet();
            Assert.Equal(1000, distinct.Count);
        }
        finally
        {
            foreach (HostDaemonSource g in guests)
            {
                await g.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Connections_over_the_limit_are_refused_with_an_error_frame()
    {
        await StartDaemon("--max-connections", "2");
        await using HostDaemonSource first = Guest();
        await using HostDaemonSource second = Guest();
        Assert.Equal(8, await first.RequestAsync(new byte[8], default));
        Assert.Equal(8, await second.RequestAsync(new byte[8], default));
        using var third = await RawConnect();
        var (frames, closed) = await ReadReplies(third, 0, TimeSpan.FromSeconds(10));
        Assert.Equal(HostEntropyError.Unavailable, Assert.Single(frames).ErrorCode);
        Assert.Contains("at most 2 connections", frames[0].ErrorText);
        Assert.True(closed);
    }

    [Fact]
    public async Task Serves_a_guest_whose_serial_console_is_a_pty()
    {
        await StartDaemon();
        string tty = Path.Combine(_dir, "ttyGuest");
        var socat = Process.Start(new ProcessStartInfo("socat", [$"pty,raw,echo=0,link={tty}", $"unix-connect:{Socket}"])
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _processes.Add(socat);
        for (int i = 0; i < 200 && !File.Exists(tty); i++)
        {
            await Task.Delay(25);
        }
        Assert.True(File.Exists(tty), "socat did not create the pty");
        await using var guest = new HostDaemonSource(HostEntropyAddress.Parse($"serial:{tty}"));
        var bytes = new byte[32];
        Assert.Equal(32, await guest.RequestAsync(bytes, default));
        Assert.Contains(bytes, b => b != 0);
    }

    [Fact]
    public async Task Stale_socket_file_is_replaced_and_a_live_daemon_is_not_hijacked()
    {
        File.WriteAllText(Socket, "left by a crashed daemon");
        await StartDaemon();
        ExternalTool.Result second = Entropyd.Run("serve", "--unix", Socket);
        Assert.Equal(2, second.ExitCode);
        Assert.Contains("already serving", second.Stderr);
        await AssertServes();
    }

    [Fact]
    public void Help_explains_the_daemon_and_the_wire_format()
    {
        ExternalTool.Result help = Entropyd.Run("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("frame = version:u8", help.StdoutText);
        ExternalTool.Result serveHelp = Entropyd.Run("serve", "--help");
        Assert.Contains("--max-connections", serveHelp.StdoutText);
        Assert.Contains("--vsock", serveHelp.StdoutText);
        ExternalTool.Result bad = Entropyd.Run("fetch", "tcp:1.2.3.4:5");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("unix:PATH, vsock:CID:PORT or serial:DEVICE", bad.Stderr);
    }
}

/// <summary>AF_VSOCK, which .NET has no type for: our endpoint's sockaddr_vm and the daemon's listener.</summary>
public sealed class VsockTests
{
    [Fact]
    public void Address_is_a_sockaddr_vm()
    {
        // sa_family = 40, reserved, svm_port, svm_cid: host byte order.
        Assert.Equal(new byte[] { 40, 0, 0, 0, 0x88, 0x13, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0 },
            VsockSocket.Address(HostEntropyAddress.HostCid, 5000));
        Assert.Equal("vsock:2:5000", HostEntropyAddress.Parse("vsock:2:5000").ToString());
    }

    [Fact]
    public async Task Guest_connecting_to_an_absent_host_fails_within_its_timeout()
    {
        await using var guest = new HostDaemonSource(HostEntropyAddress.Parse("vsock:4000000:5000"));
        var e = await Assert.ThrowsAsync<EntropySourceException>(async () => await guest.RequestAsync(new byte[32], default));
        Assert.Contains("vsock:4000000:5000", e.Message);
    }

    [Fact]
    public async Task Daemon_listens_on_vsock_when_the_kernel_offers_it()
    {
        string dir = Directory.CreateTempSubdirectory("apps-vsock-").FullName;
        uint port = (uint)Random.Shared.Next(20_000, 60_000);
        try
        {
            using Process p = Entropyd.Start(["serve", "--unix", Path.Combine(dir, "s.sock"), "--vsock", port.ToString()]);
            string? line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            if (File.Exists("/dev/vsock"))
            {
                Assert.Equal($"entropyd: serving unix:{Path.Combine(dir, "s.sock")} vsock:any:{port}", line);
                // The port is really bound: a second listener on it is refused by the kernel.
                var e = Assert.Throws<SocketException>(() => VsockSocket.Listen(port, 1));
                Assert.Equal(SocketError.AddressAlreadyInUse, e.SocketErrorCode);
            }
            else
            {
                // Without vsock the daemon says so and exits, rather than serving half of what was asked.
                Assert.Null(line);
                Assert.Contains("vsock", await p.StandardError.ReadToEndAsync());
            }
            if (!p.HasExited)
            {
                p.Kill();
            }
            await p.WaitForExitAsync();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
