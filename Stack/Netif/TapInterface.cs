using System.Runtime.InteropServices;

namespace Apps.Stack.Netif;

/// <summary>
/// A Linux TAP device (Documentation/networking/tuntap.rst): opens /dev/net/tun, attaches with
/// TUNSETIFF (IFF_TAP | IFF_NO_PI, so each read or write is one bare Ethernet frame) and moves frames
/// between the kernel and the stack. A reader thread waits in poll(2) so the stack's loop never blocks;
/// writes are non-blocking and a frame the kernel cannot take is dropped and counted.
/// </summary>
/// <remarks>Needs CAP_NET_ADMIN (root). The device disappears when this object is disposed.</remarks>
public sealed unsafe class TapInterface : INetworkInterface
{
    private readonly int _fd;
    private readonly int _wake;
    private Thread? _reader;
    private volatile bool _closing;
    private int _disposed;
    private long _writeDrops;
    private int _writers;

    private TapInterface(int fd, int wake, string name, int mtu)
    {
        _fd = fd;
        _wake = wake;
        Name = name;
        Mtu = mtu;
    }

    /// <summary>The device name the kernel gave (or kept).</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public int Mtu { get; }

    /// <summary>Why the reader stopped on its own (the device went away), or null while it runs.</summary>
    public string? ReadError { get; private set; }

    /// <summary>Frames dropped because the kernel's queue was full or the write failed.</summary>
    public long WriteDrops => Interlocked.Read(ref _writeDrops);

    /// <summary>
    /// Creates (or attaches to) TAP device <paramref name="name"/> ("tap%d" lets the kernel pick) and
    /// sets its MTU in the current network namespace.
    /// </summary>
    /// <exception cref="IOException">The device could not be opened; the message says what to check.</exception>
    public static TapInterface Open(string name, int mtu = 1500)
    {
        int fd = LinuxNative.Open("/dev/net/tun", LinuxNative.O_RDWR | LinuxNative.O_NONBLOCK | LinuxNative.O_CLOEXEC);
        if (fd < 0)
            throw Failure("open /dev/net/tun", "check that the tun module is loaded and that you run as root");
        int wake = -1;
        try
        {
            var request = default(LinuxNative.IfReq);
            LinuxNative.SetName(ref request, name);
            request.Flags = LinuxNative.IFF_TAP | LinuxNative.IFF_NO_PI;
            if (LinuxNative.Ioctl(fd, LinuxNative.TUNSETIFF, &request) < 0)
                throw Failure($"create TAP device {name}", "run as root (CAP_NET_ADMIN) and use a name not taken by another device");
            string actual = LinuxNative.GetName(ref request);
            SetMtu(actual, mtu);
            wake = LinuxNative.EventFd(0, LinuxNative.EFD_CLOEXEC | LinuxNative.EFD_NONBLOCK);
            if (wake < 0)
                throw Failure("create eventfd", "the process may be out of file descriptors");
            return new TapInterface(fd, wake, actual, mtu);
        }
        catch
        {
            LinuxNative.Close(fd);
            if (wake >= 0)
                LinuxNative.Close(wake);
            throw;
        }
    }

    // SIOCSIFMTU on any socket of the namespace the device is in (netdevice(7)).
    private static void SetMtu(string name, int mtu)
    {
        int socket = LinuxNative.Socket(LinuxNative.AF_INET, LinuxNative.SOCK_DGRAM, 0);
        if (socket < 0)
            throw Failure("open a socket to set the MTU", "the process may be out of file descriptors");
        try
        {
            var request = default(LinuxNative.IfReq);
            LinuxNative.SetName(ref request, name);
            request.Mtu = mtu;
            if (LinuxNative.Ioctl(socket, LinuxNative.SIOCSIFMTU, &request) < 0)
                throw Failure($"set MTU {mtu} on {name}", "use an MTU between 68 and 65535");
        }
        finally
        {
            LinuxNative.Close(socket);
        }
    }

    /// <inheritdoc/>
    public void Start(FrameReceiver receiver)
    {
        if (_reader is not null)
            throw new InvalidOperationException("the TAP interface is already started");
        _reader = new Thread(() => ReadLoop(receiver)) { IsBackground = true, Name = $"Apps.Stack tap {Name}" };
        _reader.Start();
    }

    private void ReadLoop(FrameReceiver receiver)
    {
        // Room for the largest frame: an MTU of up to 65535 plus the 14-byte Ethernet header.
        var buffer = new byte[Math.Max(65536, Mtu + 14)];
        var fds = stackalloc LinuxNative.PollFd[2];
        fixed (byte* p = buffer)
        {
            while (!_closing)
            {
                fds[0] = new LinuxNative.PollFd { Fd = _fd, Events = LinuxNative.POLLIN };
                fds[1] = new LinuxNative.PollFd { Fd = _wake, Events = LinuxNative.POLLIN };
                int ready = LinuxNative.Poll(fds, 2, -1);
                if (ready < 0)
                {
                    if (Marshal.GetLastPInvokeError() == LinuxNative.EINTR)
                        continue;
                    return;
                }
                if (_closing || fds[1].Revents != 0)
                    return;
                // Drain what is queued; EAGAIN ends the batch. Any other error (the device was deleted
                // under us) ends the reader rather than spinning on a descriptor that stays readable.
                while (true)
                {
                    nint n = LinuxNative.Read(_fd, p, buffer.Length);
                    if (n > 0)
                    {
                        receiver(new ReadOnlySpan<byte>(p, (int)n));
                        continue;
                    }
                    int errno = Marshal.GetLastPInvokeError();
                    if (n < 0 && errno is LinuxNative.EAGAIN or LinuxNative.EINTR)
                        break;
                    ReadError = n == 0 ? "end of file" : Marshal.GetPInvokeErrorMessage(errno);
                    return;
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> frame)
    {
        // Dispose waits for writers to leave before closing, so a write never lands on a reused descriptor.
        Interlocked.Increment(ref _writers);
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
                return;
            fixed (byte* p = frame)
            {
                if (LinuxNative.Write(_fd, p, frame.Length) != frame.Length)
                    Interlocked.Increment(ref _writeDrops);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _writers);
        }
    }

    /// <summary>Stops the reader thread and closes the device.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _closing = true;
        ulong one = 1;
        LinuxNative.Write(_wake, (byte*)&one, sizeof(ulong));
        if (_reader is not null && Thread.CurrentThread != _reader)
            _reader.Join();
        SpinWait.SpinUntil(() => Volatile.Read(ref _writers) == 0);
        LinuxNative.Close(_fd);
        LinuxNative.Close(_wake);
    }

    private static IOException Failure(string what, string advice) =>
        new($"could not {what} (errno {Marshal.GetLastPInvokeError()}: {Marshal.GetLastPInvokeErrorMessage()}); {advice}");
}
