using System.Runtime.InteropServices;

namespace Apps.Stack.Netif;

/// <summary>The few Linux system calls the TAP driver needs (x86-64 and arm64 share these values).</summary>
internal static unsafe partial class LinuxNative
{
    public const int O_RDWR = 0x2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;
    public const short POLLIN = 0x1;
    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int AF_INET = 2;
    public const int SOCK_DGRAM = 2;

    // linux/if_tun.h: TUNSETIFF = _IOW('T', 202, int); IFF_TAP and IFF_NO_PI flags.
    public const ulong TUNSETIFF = 0x400454CA;
    public const short IFF_TAP = 0x0002;
    public const short IFF_NO_PI = 0x1000;
    public const short IFF_VNET_HDR = 0x4000;

    // linux/if_tun.h: TUNSETOFFLOAD = _IOW('T', 208, unsigned int) (the argument is the value itself),
    // TUNSETVNETHDRSZ = _IOW('T', 216, int) and TUNSETVNETLE = _IOW('T', 220, int) (pointers to int).
    public const ulong TUNSETOFFLOAD = 0x400454D0;
    public const ulong TUNSETVNETHDRSZ = 0x400454D8;
    public const ulong TUNSETVNETLE = 0x400454DC;
    public const uint TUN_F_CSUM = 0x01;
    public const uint TUN_F_TSO4 = 0x02;

    // linux/sockios.h
    public const ulong SIOCSIFMTU = 0x8922;
    public const int IFNAMSIZ = 16;

    /// <summary>struct ifreq: a 16-byte name and a 24-byte union (flags or MTU at offset 16).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    public struct IfReq
    {
        [FieldOffset(0)] public fixed byte Name[IFNAMSIZ];
        [FieldOffset(16)] public short Flags;
        [FieldOffset(16)] public int Mtu;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, IfReq* argument);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, int* argument);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, ulong request, nuint argument);

    /// <summary>struct iovec for writev(2).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [LibraryImport("libc", EntryPoint = "writev", SetLastError = true)]
    public static partial nint Writev(int fd, IoVec* vectors, int count);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    public static void SetName(ref IfReq request, string name)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(name);
        if (bytes.Length >= IFNAMSIZ)
            throw new ArgumentException($"interface name '{name}' is longer than {IFNAMSIZ - 1} characters; use a shorter name", nameof(name));
        fixed (byte* p = request.Name)
            bytes.CopyTo(new Span<byte>(p, IFNAMSIZ));
    }

    public static string GetName(ref IfReq request)
    {
        fixed (byte* p = request.Name)
        {
            var span = new ReadOnlySpan<byte>(p, IFNAMSIZ);
            int end = span.IndexOf((byte)0);
            return System.Text.Encoding.ASCII.GetString(end < 0 ? span : span[..end]);
        }
    }
}
