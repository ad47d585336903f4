using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Apps.Bench.Stack;

/// <summary>
/// Creates host sockets inside a network namespace made with <c>ip netns add</c>, from this process: a
/// short-lived thread joins the namespace with setns(2) and creates the socket, which keeps that namespace
/// for its whole life (socket(7): a socket belongs to the namespace it was created in), whatever thread
/// uses it afterwards. So the kernel's end of a benchmark needs no helper program.
/// </summary>
internal static class NamespaceSockets
{
    private const int CLONE_NEWNET = 0x40000000;
    private const int IpProtocolTcp = 6, TcpCongestion = 13; // linux/tcp.h TCP_CONGESTION

    /// <summary>The congestion control every socket made here uses (an accepted one inherits its listener's); null: the namespace's default.</summary>
    public static string? CongestionControl { get; set; }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);

    /// <summary>A TCP socket created in namespace <paramref name="netns"/>.</summary>
    public static Socket TcpSocket(string netns)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{netns}");
                if (SetNs((int)handle.DangerousGetHandle(), CLONE_NEWNET) != 0)
                    throw new IOException($"setns into {netns} failed (errno {Marshal.GetLastPInvokeError()}); run as root");
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                if (CongestionControl is { } name)
                    socket.SetRawSocketOption(IpProtocolTcp, TcpCongestion, System.Text.Encoding.ASCII.GetBytes(name));
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { Name = "netns socket" };
        thread.Start();
        thread.Join();
        return socket ?? throw new IOException($"could not create a socket in namespace {netns}", failure);
    }
}
