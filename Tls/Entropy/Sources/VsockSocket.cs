using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Apps.Tls.Entropy.Sources;

/// <summary>
/// AF_VSOCK sockets through libc: .NET's <see cref="Socket"/> cannot create, bind, connect or
/// accept them (it knows no such address family), but once a connected descriptor exists it
/// sends and receives on it like any stream socket. So the address-bearing calls are made here
/// and the descriptor is then wrapped in a <see cref="Socket"/>.
/// </summary>
public static class VsockSocket
{
    private const int AfVsock = 40;
    private const int SockStream = 1;
    private const int SockCloexec = 0x80000;
    private const int ShutRdwr = 2;

    [DllImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static extern int NativeSocket(int domain, int type, int protocol);

    [DllImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static extern int NativeBind(int fd, byte[] address, int length);

    [DllImport("libc", EntryPoint = "listen", SetLastError = true)]
    private static extern int NativeListen(int fd, int backlog);

    [DllImport("libc", EntryPoint = "accept4", SetLastError = true)]
    private static extern int NativeAccept(int fd, nint address, nint length, int flags);

    [DllImport("libc", EntryPoint = "connect", SetLastError = true)]
    private static extern int NativeConnect(int fd, byte[] address, int length);

    [DllImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    private static extern int NativeShutdown(int fd, int how);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int NativeClose(int fd);

    /// <summary>True when this kernel offers AF_VSOCK (the module is loaded and /dev/vsock exists).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && File.Exists("/dev/vsock");

    /// <summary>Connects to <paramref name="cid"/>:<paramref name="port"/>; cancellation abandons the attempt.</summary>
    public static async Task<Socket> ConnectAsync(uint cid, uint port, CancellationToken cancellationToken)
    {
        int fd = Create();
        try
        {
            // connect(2) on a vsock blocks; cancelling shuts the descriptor down, which ends the wait.
            using CancellationTokenRegistration abort = cancellationToken.Register(() => NativeShutdown(fd, ShutRdwr));
            int result = await Task.Run(() => NativeConnect(fd, Address(cid, port), 16) == 0 ? 0 : Marshal.GetLastPInvokeError(), CancellationToken.None).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (result != 0)
            {
                throw Failure(result);
            }
            return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        }
        catch
        {
            NativeClose(fd);
            throw;
        }
    }

    /// <summary>A listening vsock on <paramref name="port"/> for any CID.</summary>
    public static VsockListener Listen(uint port, int backlog)
    {
        int fd = Create();
        if (NativeBind(fd, Address(VsockEndPoint.AnyCid, port), 16) != 0 || NativeListen(fd, backlog) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            NativeClose(fd);
            throw Failure(errno);
        }
        return new VsockListener(fd);
    }

    private static int Create()
    {
        int fd = NativeSocket(AfVsock, SockStream | SockCloexec, 0);
        if (fd < 0)
        {
            throw Failure(Marshal.GetLastPInvokeError());
        }
        return fd;
    }

    // A SocketException with .NET's error code for the Linux errno, and the kernel's own words.
    private static SocketException Failure(int errno) => new((int)(errno switch
    {
        13 => SocketError.AccessDenied,
        97 => SocketError.AddressFamilyNotSupported,
        98 => SocketError.AddressAlreadyInUse,
        99 => SocketError.AddressNotAvailable,
        101 => SocketError.NetworkUnreachable,
        104 => SocketError.ConnectionReset,
        110 => SocketError.TimedOut,
        111 => SocketError.ConnectionRefused,
        113 => SocketError.HostUnreachable,
        _ => SocketError.SocketError,
    }), Marshal.GetPInvokeErrorMessage(errno));

    // struct sockaddr_vm: family u16, reserved u16, port u32, cid u32, flags u8, zero[3]; host byte order.
    internal static byte[] Address(uint cid, uint port)
    {
        var address = new byte[16];
        BitConverter.TryWriteBytes(address, (ushort)AfVsock);
        BitConverter.TryWriteBytes(address.AsSpan(4), port);
        BitConverter.TryWriteBytes(address.AsSpan(8), cid);
        return address;
    }

    /// <summary>A listening vsock; <see cref="Accept"/> blocks, so run it on a thread of its own.</summary>
    public sealed class VsockListener : IDisposable
    {
        private int _fd;

        internal VsockListener(int fd) => _fd = fd;

        /// <summary>Waits for a guest; null once the listener is disposed.</summary>
        public Socket? Accept()
        {
            while (true)
            {
                int fd = Volatile.Read(ref _fd);
                if (fd < 0)
                {
                    return null;
                }
                int client = NativeAccept(fd, 0, 0, SockCloexec);
                if (client >= 0)
                {
                    return new Socket(new SafeSocketHandle(client, ownsHandle: true));
                }
                int errno = Marshal.GetLastPInvokeError();
                if (Volatile.Read(ref _fd) < 0 || errno is not (4 /* EINTR */ or 103 /* ECONNABORTED */))
                {
                    return null;
                }
            }
        }

        public void Dispose()
        {
            int fd = Interlocked.Exchange(ref _fd, -1);
            if (fd >= 0)
            {
                NativeShutdown(fd, ShutRdwr); // wakes a thread blocked in accept
                NativeClose(fd);
            }
        }
    }
}
