using System.ComponentModel;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Apps.TestSupport;
using Microsoft.Win32.SafeHandles;

namespace Apps.Conduit.Tests;

/// <summary>
/// A network namespace the test creates, and host sockets made inside it: a socket belongs to the namespace of
/// the thread that created it (socket(2)), so each one is made on a short-lived thread that first joins the
/// namespace with setns(2). The rest of the process stays where it is. Dispose deletes the namespace.
/// </summary>
internal sealed partial class SocketNamespace : IAsyncDisposable
{
    private const int CloneNewNet = 0x40000000;
    private readonly SafeFileHandle _handle;
    private readonly List<Socket> _created = [];

    private SocketNamespace(string name, SafeFileHandle handle)
    {
        Name = name;
        _handle = handle;
    }

    public string Name { get; }

    /// <summary>Every socket made so far, in order.</summary>
    public IReadOnlyList<Socket> Created
    {
        get
        {
            lock (_created)
            {
                return [.. _created];
            }
        }
    }

    /// <summary>Creates the namespace with its loopback up (127.0.0.1 and ::1 inside it only).</summary>
    public static async Task<SocketNamespace> CreateAsync()
    {
        var name = "apps-he-" + LinuxNamespace.UniqueSuffix();
        await CheckAsync("ip", "netns", "add", name);
        try
        {
            await CheckAsync("ip", "-n", name, "link", "set", "lo", "up");
            return new SocketNamespace(name, File.OpenHandle($"/run/netns/{name}"));
        }
        catch
        {
            await LinuxNamespace.RunAsync("ip", "netns", "del", name);
            throw;
        }
    }

    /// <summary>Silently drops TCP segments to <paramref name="address"/> port <paramref name="port"/> arriving inside
    /// the namespace, so a connect there never completes (nftables, input hook).</summary>
    public async Task BlackholeAsync(string address, int port)
    {
        var family = address.Contains(':') ? "ip6" : "ip";
        await CheckAsync("ip", "netns", "exec", Name, "nft", "add", "table", "inet", "blackhole");
        await CheckAsync("ip", "netns", "exec", Name, "nft", "add", "chain", "inet", "blackhole", "input", "{ type filter hook input priority 0; policy accept; }");
        await CheckAsync("ip", "netns", "exec", Name, "nft", "add", "rule", "inet", "blackhole", "input", family, "daddr", address, "tcp", "dport", port.ToString(), "drop");
    }

    /// <summary>TCP sockets inside the namespace in SYN-SENT (connects still waiting), from ss(8).</summary>
    public async Task<string> SynSentAsync() =>
        (await CheckAsync("ip", "netns", "exec", Name, "ss", "-Htn", "state", "syn-sent")).Trim();

    /// <summary>A TCP socket that lives in the namespace.</summary>
    public Socket Create(AddressFamily family)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                if (SetNs((int)_handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new Win32Exception(Marshal.GetLastPInvokeError(), "setns into the test namespace failed");
                }

                socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw failure;
        }

        lock (_created)
        {
            _created.Add(socket!);
        }

        return socket!;
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nsType);

    private static async Task<string> CheckAsync(string file, params string[] arguments)
    {
        var (code, output, error) = await LinuxNamespace.RunAsync(file, arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {error}");
        }

        return output;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_created)
        {
            foreach (var socket in _created)
            {
                socket.Dispose();
            }
        }

        _handle.Dispose();
        await LinuxNamespace.RunAsync("ip", "netns", "del", Name);
    }
}
