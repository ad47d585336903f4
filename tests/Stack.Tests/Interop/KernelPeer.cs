using System.Diagnostics;
using Apps.Stack.Netif;

namespace Apps.Stack.Tests.Interop;

/// <summary>
/// The Linux kernel as a peer: a TAP device our stack holds, moved into a network namespace this
/// object creates, with the kernel's side of the link configured there. Dispose removes the
/// namespace, the device and every process started in it, whatever happened before.
/// </summary>
internal sealed class KernelPeer : IAsyncDisposable
{
    private const string Prefix = "apps-stack-";
    private static int _counter;
    private static int _swept;

    // A test run killed with SIGKILL cannot clean up: delete namespaces left by processes that are gone.
    // (Their TAP devices went with the process's descriptors.)
    private static async Task RemoveLeftoversAsync()
    {
        if (Interlocked.Exchange(ref _swept, 1) != 0)
            return;
        var list = await HostCommand.RunAsync("ip", "netns list");
        foreach (var line in list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal))
                continue;
            var parts = name[Prefix.Length..].Split('-');
            if (parts.Length == 2 && int.TryParse(parts[0], out int owner) && owner != Environment.ProcessId && !Directory.Exists($"/proc/{owner}"))
                await HostCommand.RunAsync("ip", $"netns del {name}");
        }
    }
    private readonly List<Process> _processes = [];

    private KernelPeer(string ns, TapInterface tap)
    {
        Namespace = ns;
        Tap = tap;
    }

    /// <summary>The namespace name (unique per run).</summary>
    public string Namespace { get; }

    /// <summary>Our end: the TAP file descriptor.</summary>
    public TapInterface Tap { get; }

    /// <summary>The device's name.</summary>
    public string Device => Tap.Name;

    /// <summary>
    /// Creates the TAP device (with virtio-net offloads unless <paramref name="offloads"/> is false) and
    /// namespace; the kernel side gets <paramref name="kernelCidr"/> (or no address).
    /// </summary>
    public static async Task<KernelPeer> CreateAsync(string? kernelCidr, int mtu = 1500, bool offloads = true)
    {
        await RemoveLeftoversAsync();
        int n = Interlocked.Increment(ref _counter);
        int pid = Environment.ProcessId;
        var tap = TapInterface.Open($"apt{pid % 100000}x{n}", mtu, offloads);
        var peer = new KernelPeer($"{Prefix}{pid}-{n}", tap);
        try
        {
            await HostCommand.CheckAsync("ip", $"netns add {peer.Namespace}");
            await HostCommand.CheckAsync("ip", $"link set {tap.Name} netns {peer.Namespace}");
            await peer.ExecCheckAsync($"ip link set lo up");
            if (kernelCidr is not null)
                await peer.ExecCheckAsync($"ip addr add {kernelCidr} dev {tap.Name}");
            await peer.ExecCheckAsync($"ip link set {tap.Name} up");
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs a command inside the namespace.</summary>
    public Task<HostCommand.Result> ExecAsync(string command, string? stdin = null, TimeSpan? timeout = null) =>
        HostCommand.RunAsync("ip", $"netns exec {Namespace} {command}", stdin, timeout);

    public async Task ExecCheckAsync(string command)
    {
        var r = await ExecAsync(command);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"{command} in {Namespace} failed: {r}");
    }

    /// <summary>Starts a long-running process in the namespace; it is killed on dispose.</summary>
    public Process StartProcess(string command)
    {
        var p = HostCommand.Start("ip", $"netns exec {Namespace} {command}");
        _processes.Add(p);
        return p;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    await p.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            p.Dispose();
        }
        await HostCommand.RunAsync("ip", $"netns del {Namespace}");
        Tap.Dispose();
    }
}
