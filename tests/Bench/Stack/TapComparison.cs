using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Apps.Stack;
using Apps.Stack.Netif;
using Apps.Stack.Tcp;
using Apps.Stack.Wire;
using Apps.TestSupport;

namespace Apps.Bench.Stack;

/// <summary>
/// TCP bulk throughput between our stack and the Linux kernel over a TAP device, against its anchor: the
/// kernel talking to itself over a veth pair between two network namespaces. Both in one run, both
/// directions, with the same MTU; prints GB/s and ours/anchor. Everything runs in this process: the
/// kernel's ends are host sockets created inside the namespaces (see <see cref="NamespaceSockets"/>).
/// The anchor and each of our links are measured in turn within every round (median of 5 by default), so that the
/// machine's slow and fast minutes fall on all of them alike.
/// Run (root): <c>dotnet run -c Release --project tests/Bench -- tap [--mib N] [--rounds N] [--mtu 1500,65000] [--buffer-kib N] [--offloads on,off] [--direction send,receive] [--kernel-cc cubic|bbr|default]</c>;
/// each MTU (default 1500 and 65000) applies to both links, our MSS follows it, and <c>--buffer-kib</c>
/// (default 4096: the kernel's sockets grow theirs up to tcp_wmem's 4 MiB and tcp_rmem's 32 MiB; ours are fixed) sets our TCP
/// send and receive buffers. Our side runs once per
/// <c>--offloads</c> mode: "on" opens the TAP device with virtio-net offloads (TSO/GSO super-frames both
/// ways, as veth has), "off" as a plain TAP (one frame per MTU-sized packet), so both show in one run.
/// <c>--direction</c> leaves one transfer out (for profiling the other); <c>--kernel-cc</c> (default cubic, as our
/// TCP) sets the congestion control of every kernel socket, veth and TAP alike.
/// </summary>
/// <remarks>
/// The namespaces and devices are created with iproute2 and removed at the end, whatever happens. The
/// kernel side uses only addresses inside them (10.80.0.0/24 for TAP, 10.81.0.0/24 for veth).
/// </remarks>
internal static class TapComparison
{
    private const int Port = 5201;

    // --direction: which of the two transfers run (a profile of one direction needs the other left out).
    private static bool Sending = true, Receiving = true;
    private static readonly byte[] Chunk = MakeChunk();

    public static async Task<int> RunAsync(string[] args)
    {
        int mib = Option(args, "--mib", 64);
        int rounds = Option(args, "--rounds", 5);
        int buffer = Option(args, "--buffer-kib", 4096) * 1024;
        var mtus = (Value(args, "--mtu") ?? "1500,65000").Split(',').Select(int.Parse).ToArray();
        var modes = (Value(args, "--offloads") ?? "on,off").Split(',').Select(m => m == "on").ToArray();
        var directions = (Value(args, "--direction") ?? "send,receive").Split(',');
        Sending = directions.Contains("send");
        Receiving = directions.Contains("receive");
        // Like with like: our TCP runs CUBIC (RFC 9438), Linux's default, whatever this host's default is (BBR's
        // pacing makes both kernel ends much slower here); "default" keeps the namespaces' own.
        var cc = Value(args, "--kernel-cc") ?? "cubic";
        NamespaceSockets.CongestionControl = cc == "default" ? null : cc;
        Console.WriteLine($"TCP bulk, {mib} MiB per transfer, median of {rounds} interleaved rounds after 2 s of warm-up each; our TCP buffers {buffer / 1024} KiB; Nagle off on both sides; kernel congestion control {cc}");
        var rows = new List<string>();
        foreach (int mtu in mtus)
            rows.AddRange(await MeasureAsync(mtu, (long)mib * 1024 * 1024, rounds, buffer, modes));
        Console.WriteLine();
        Console.WriteLine("| MTU | direction | Linux ↔ Linux, veth (anchor) | ours ↔ Linux, TAP | ours/anchor |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var row in rows)
            Console.WriteLine(row);
        return 0;
    }

    /// <summary>One connection under test, measured round after round in both directions.</summary>
    private sealed class Link(string label, Func<double> send, Func<double> receive)
    {
        public string Label => label;

        public List<double> Sent { get; } = [];

        public List<double> Received { get; } = [];

        public void WarmUp()
        {
            // Two seconds each way, so that the JIT has tiered our code up and the kernel's buffers have grown.
            var clock = Stopwatch.StartNew();
            do
            {
                if (Sending)
                    send();
                if (Receiving)
                    receive();
            }
            while (clock.Elapsed < TimeSpan.FromSeconds(2));
        }

        public void MeasureSend() => Sent.Add(send());

        public void MeasureReceive() => Received.Add(receive());

        public static double Median(List<double> results)
        {
            if (results.Count == 0)
                return double.NaN;
            var sorted = results.Order().ToArray();
            return sorted[sorted.Length / 2];
        }
    }

    private static async Task<string[]> MeasureAsync(int mtu, long bytes, int rounds, int buffer, bool[] offloadModes)
    {
        var suffix = LinuxNamespace.UniqueSuffix();
        var namespaces = new List<LinuxNamespace>();
        var cleanups = new List<Func<ValueTask>>(); // run last first
        try
        {
            // Anchor: Linux to Linux over a veth pair. "Send" is A (the sender we compare with our stack sending) to
            // B's kernel receiver.
            string va = "vba" + suffix, vb = "vbb" + suffix;
            await Check("ip", "link", "add", va, "mtu", $"{mtu}", "type", "veth", "peer", "name", vb, "mtu", $"{mtu}");
            namespaces.Add(await LinuxNamespace.AdoptAsync("apps-vetha-" + suffix, va, "10.81.0.1/24"));
            namespaces.Add(await LinuxNamespace.AdoptAsync("apps-vethb-" + suffix, vb, "10.81.0.2/24"));
            var listener = NamespaceSockets.TcpSocket(namespaces[^1].Name);
            cleanups.Add(Disposing(listener));
            listener.Bind(new IPEndPoint(IPAddress.Parse("10.81.0.2"), Port));
            listener.Listen(1);
            var client = NamespaceSockets.TcpSocket(namespaces[^2].Name);
            cleanups.Add(Disposing(client));
            await client.ConnectAsync(new IPEndPoint(IPAddress.Parse("10.81.0.2"), Port));
            var server = await listener.AcceptAsync();
            cleanups.Add(Disposing(server));
            var anchor = new Link("veth", () => SocketToSocket(client, server, bytes), () => SocketToSocket(server, client, bytes));

            // Ours: our stack on a TAP device, the kernel in a namespace on the other end, once per offload mode.
            var links = new List<Link> { anchor };
            var stacks = new List<(Link Link, bool Offloads, TapInterface Tap, NetworkStack Stack)>();
            for (int i = 0; i < offloadModes.Length; i++)
            {
                bool offloads = offloadModes[i];
                var tap = TapInterface.Open($"tbn{suffix}{i}", mtu, offloads); // the stack disposes it too; twice is harmless
                cleanups.Add(Disposing(tap));
                var stack = new NetworkStack(tap, new NetworkStackOptions { Name = "bench-tap", Address = Ipv4Settings.Parse($"10.80.{i}.2/24") });
                cleanups.Add(() => stack.DisposeAsync());
                // The MSS follows the link MTU, as the kernel's does (RFC 9293 §3.7.1); Nagle is off, as on the
                // kernel's sockets here.
                await stack.UseTcpAsync(new TcpSettings
                {
                    MaxSegmentSize = (ushort)Math.Min(mtu - 40, ushort.MaxValue), SendBufferSize = buffer, ReceiveBufferSize = buffer, NoDelay = true,
                });
                var ns = await LinuxNamespace.AdoptAsync($"apps-tapb{(offloads ? "o" : "p")}-{suffix}{i}", tap.Name, $"10.80.{i}.1/24");
                namespaces.Add(ns);
                var kernelListener = NamespaceSockets.TcpSocket(ns.Name);
                cleanups.Add(Disposing(kernelListener));
                kernelListener.Bind(new IPEndPoint(IPAddress.Parse($"10.80.{i}.1"), Port));
                kernelListener.Listen(1);
                var accept = kernelListener.AcceptAsync();
                var ours = await stack.ConnectTcpAsync(Ipv4Address.Parse($"10.80.{i}.1"), Port, TimeSpan.FromSeconds(30));
                cleanups.Add(() => ours.DisposeAsync());
                var kernel = await accept;
                cleanups.Add(Disposing(kernel));
                var link = new Link(offloads ? "TAP, offloads" : "plain TAP", () => OursToSocket(ours, kernel, bytes), () => SocketToOurs(kernel, ours, bytes));
                links.Add(link);
                stacks.Add((link, offloads, tap, stack));
            }

            // Interleaved: each round measures every link once each way, so that a slow minute of this shared machine
            // falls on the anchor and on ours alike instead of on whichever was being measured then.
            foreach (var link in links)
                link.WarmUp();
            for (int round = 0; round < rounds; round++)
            {
                foreach (var link in links)
                {
                    if (Sending)
                        link.MeasureSend();
                    if (Receiving)
                        link.MeasureReceive();
                }
            }

            double vethSend = Link.Median(anchor.Sent), vethReceive = Link.Median(anchor.Received);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  MTU {mtu}, veth: {vethSend / 1e9:0.00} GB/s A→B, {vethReceive / 1e9:0.00} GB/s B→A"));
            var rows = new List<string>();
            foreach (var (link, offloads, tap, stack) in stacks)
            {
                double oursSend = Link.Median(link.Sent), oursReceive = Link.Median(link.Received);
                var tcp = stack.TcpCounters();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  MTU {mtu}, {link.Label}: {oursSend / 1e9:0.00} GB/s ours→Linux, {oursReceive / 1e9:0.00} GB/s Linux→ours; TAP write drops {tap.WriteDrops}, super-frames in {tap.SegmentedFramesReceived} out {tap.SegmentedFramesSent}; stack {stack.Counters}; TCP retransmissions {tcp?.Retransmissions}, timeouts {tcp?.RetransmissionTimeouts}"));
                if (Sending)
                    rows.Add(Row(mtu, $"sender → kernel receiver ({link.Label})", vethSend, oursSend));
                if (Receiving)
                    rows.Add(Row(mtu, $"kernel sender → receiver ({link.Label})", vethReceive, oursReceive));
            }

            return [.. rows];
        }
        finally
        {
            for (int i = cleanups.Count - 1; i >= 0; i--)
                await cleanups[i]();
            foreach (var ns in namespaces)
                await ns.DisposeAsync();
            // Gone with its namespace once adopted; still in ours if adopting failed.
            await LinuxNamespace.RunAsync("ip", "link", "del", "vba" + suffix);
        }
    }

    private static Func<ValueTask> Disposing(IDisposable disposable) => () =>
    {
        disposable.Dispose();
        return ValueTask.CompletedTask;
    };

    private static string Row(int mtu, string direction, double anchor, double ours) =>
        string.Create(CultureInfo.InvariantCulture, $"| {mtu} | {direction} | {anchor / 1e9:0.00} GB/s | {ours / 1e9:0.00} GB/s | {ours / anchor:0.00}x |");

    private static double SocketToSocket(Socket from, Socket to, long bytes)
    {
        var clock = Stopwatch.StartNew();
        var send = Task.Run(() =>
        {
            for (long sent = 0; sent < bytes;)
                sent += from.Send(Chunk.AsSpan(0, (int)Math.Min(Chunk.Length, bytes - sent)));
        });
        Drain(to, bytes);
        send.GetAwaiter().GetResult();
        return bytes / clock.Elapsed.TotalSeconds;
    }

    private static double OursToSocket(TcpConnection from, Socket to, long bytes)
    {
        var clock = Stopwatch.StartNew();
        var send = Task.Run(async () =>
        {
            for (long sent = 0; sent < bytes; sent += Chunk.Length)
                await from.Output.WriteAsync(Chunk.AsMemory(0, (int)Math.Min(Chunk.Length, bytes - sent)));
        });
        Drain(to, bytes);
        send.GetAwaiter().GetResult();
        return bytes / clock.Elapsed.TotalSeconds;
    }

    private static double SocketToOurs(Socket from, TcpConnection to, long bytes)
    {
        var clock = Stopwatch.StartNew();
        var send = Task.Run(() =>
        {
            for (long sent = 0; sent < bytes;)
                sent += from.Send(Chunk.AsSpan(0, (int)Math.Min(Chunk.Length, bytes - sent)));
        });
        // Read as an application does, awaiting the pipe: its continuation runs on the thread the pipe
        // schedules it on (blocking a thread on each read would add a second hop per read).
        DrainAsync(to.Input, bytes).GetAwaiter().GetResult();
        send.GetAwaiter().GetResult();
        return bytes / clock.Elapsed.TotalSeconds;
    }

    private static async Task DrainAsync(PipeReader input, long bytes)
    {
        for (long received = 0; received < bytes;)
        {
            var result = await input.ReadAsync();
            long take = Math.Min(result.Buffer.Length, bytes - received);
            received += take;
            input.AdvanceTo(result.Buffer.GetPosition(take));
            if (result.IsCompleted && received < bytes)
                throw new IOException($"the connection ended after {received} of {bytes} bytes");
        }
    }

    private static void Drain(Socket socket, long bytes)
    {
        var sink = new byte[256 * 1024];
        for (long received = 0; received < bytes;)
        {
            int n = socket.Receive(sink);
            if (n == 0)
                throw new IOException($"the connection ended after {received} of {bytes} bytes");
            received += n;
        }
    }

    private static byte[] MakeChunk()
    {
        var chunk = new byte[1024 * 1024];
        new Random(1).NextBytes(chunk);
        return chunk;
    }

    private static async Task Check(string file, params string[] arguments)
    {
        var result = await LinuxNamespace.RunAsync(file, arguments);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {result.Error.Trim()}; run as root with iproute2 installed");
    }

    private static int Option(string[] args, string name, int fallback) =>
        int.TryParse(Value(args, name), out int value) ? value : fallback;

    private static string? Value(string[] args, string name)
    {
        int index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
