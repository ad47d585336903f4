using System.Runtime.InteropServices;
using Apps.Stack.Wire;

namespace Apps.Stack.Netif;

/// <summary>
/// A Linux TAP device (Documentation/networking/tuntap.rst): opens /dev/net/tun, attaches with
/// TUNSETIFF (IFF_TAP | IFF_NO_PI, so each read or write is one bare Ethernet frame) and moves frames
/// between the kernel and the stack. The descriptor is non-blocking: a stack's loop reads it itself
/// (<see cref="FrameSource"/>) and sleeps in poll(2) on it when idle; a link used through
/// <see cref="Start"/> instead gets a reader thread that waits in poll(2) and pushes frames. Writes
/// never block: a frame the kernel cannot take is dropped and counted.
/// </summary>
/// <remarks>
/// With offloads (the default) the device is opened with IFF_VNET_HDR: every read and write carries a
/// <see cref="VirtioNetHeader"/>, and TUNSETOFFLOAD (TUN_F_CSUM | TUN_F_TSO4) lets the kernel hand us
/// TCP super-frames of up to 64 KiB with partial checksums, as it does to a virtio-net guest. We send
/// such frames too (<see cref="LinkOffloads.TcpSegmentation"/>): the kernel takes them whole. A frame
/// whose header is malformed is dropped and counted in <see cref="HeaderDrops"/>.
/// Needs CAP_NET_ADMIN (root). The device disappears when this object is disposed.
/// </remarks>
public sealed unsafe class TapInterface : INetworkInterface, IFrameSource
{
    private readonly int _fd;
    private readonly int _wake;
    private Thread? _reader;
    private volatile bool _closing;
    private int _disposed;
    private long _writeDrops;
    private int _users;          // calls on the descriptors in progress; Dispose waits for them before closing
    private byte[]? _loopBuffer; // the read buffer of the loop reading through FrameSource
    private readonly ManualResetEventSlim _interruptedAfterDispose = new();
    private readonly bool _vnet;
    private long _headerDrops, _segmentedIn, _segmentedOut;

    private TapInterface(int fd, int wake, string name, int mtu, bool vnet)
    {
        _fd = fd;
        _wake = wake;
        Name = name;
        Mtu = mtu;
        _vnet = vnet;
    }

    /// <inheritdoc/>
    public LinkOffloads Offloads => _vnet ? LinkOffloads.Checksum | LinkOffloads.TcpSegmentation : LinkOffloads.None;

    /// <summary>Frames dropped because their virtio-net header was malformed (offload mode only).</summary>
    public long HeaderDrops => Interlocked.Read(ref _headerDrops);

    /// <summary>Super-frames (GSO type TCPv4) the kernel handed us.</summary>
    public long SegmentedFramesReceived => Interlocked.Read(ref _segmentedIn);

    /// <summary>Super-frames (TSO) we handed the kernel and it took.</summary>
    public long SegmentedFramesSent => Interlocked.Read(ref _segmentedOut);

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
    /// sets its MTU in the current network namespace. With <paramref name="offloads"/>, frames carry a
    /// virtio-net header and TCP moves in super-frames of up to 64 KiB both ways (see the remarks).
    /// </summary>
    /// <exception cref="IOException">The device could not be opened; the message says what to check.</exception>
    public static TapInterface Open(string name, int mtu = 1500, bool offloads = true)
    {
        int fd = LinuxNative.Open("/dev/net/tun", LinuxNative.O_RDWR | LinuxNative.O_NONBLOCK | LinuxNative.O_CLOEXEC);
        if (fd < 0)
            throw Failure("open /dev/net/tun", "check that the tun module is loaded and that you run as root");
        int wake = -1;
        try
        {
            var request = default(LinuxNative.IfReq);
            LinuxNative.SetName(ref request, name);
            request.Flags = (short)(LinuxNative.IFF_TAP | LinuxNative.IFF_NO_PI | (offloads ? LinuxNative.IFF_VNET_HDR : 0));
            if (LinuxNative.Ioctl(fd, LinuxNative.TUNSETIFF, &request) < 0)
                throw Failure($"create TAP device {name}", "run as root (CAP_NET_ADMIN) and use a name not taken by another device");
            string actual = LinuxNative.GetName(ref request);
            if (offloads)
                EnableOffloads(fd, actual);
            SetMtu(actual, mtu);
            wake = LinuxNative.EventFd(0, LinuxNative.EFD_CLOEXEC | LinuxNative.EFD_NONBLOCK);
            if (wake < 0)
                throw Failure("create eventfd", "the process may be out of file descriptors");
            return new TapInterface(fd, wake, actual, mtu, offloads);
        }
        catch
        {
            LinuxNative.Close(fd);
            if (wake >= 0)
                LinuxNative.Close(wake);
            throw;
        }
    }

    // linux/if_tun.h: a 10-byte struct virtio_net_hdr, little-endian, and the offloads we accept from the
    // kernel: partial checksums and IPv4 TSO (not ECN, UFO or IPv6).
    private static void EnableOffloads(int fd, string name)
    {
        int size = VirtioNetHeader.Length;
        if (LinuxNative.Ioctl(fd, LinuxNative.TUNSETVNETHDRSZ, &size) < 0)
            throw Failure($"set the virtio-net header size on {name}", "open the device without offloads");
        int littleEndian = 1;
        if (LinuxNative.Ioctl(fd, LinuxNative.TUNSETVNETLE, &littleEndian) < 0 && !BitConverter.IsLittleEndian)
            throw Failure($"make the virtio-net header of {name} little-endian", "open the device without offloads");
        if (LinuxNative.Ioctl(fd, LinuxNative.TUNSETOFFLOAD, (nuint)(LinuxNative.TUN_F_CSUM | LinuxNative.TUN_F_TSO4)) < 0)
            throw Failure($"enable checksum and TSO offloads on {name}", "open the device without offloads");
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

    /// <summary>This device, read by the stack's loop itself (see <see cref="IFrameSource"/>).</summary>
    public IFrameSource FrameSource => this;

    /// <inheritdoc/>
    public void Start(FrameReceiver receiver)
    {
        if (_reader is not null)
            throw new InvalidOperationException("the TAP interface is already started");
        if (_loopBuffer is not null)
            throw new InvalidOperationException("the TAP interface is read through its FrameSource; it cannot also be started");
        _reader = new Thread(() => ReadLoop(receiver)) { IsBackground = true, Name = $"Apps.Stack tap {Name}" };
        _reader.Start();
    }

    // Room for the largest frame (an MTU of up to 65535, or a 64 KiB super-frame, plus the Ethernet header)
    // behind the virtio-net header, and a little more so that a longer one is seen and dropped.
    private static byte[] NewReadBuffer() => new byte[VirtioNetHeader.Length + VirtioNetHeader.MaxFrameLength + 1024];

    int IFrameSource.TryReceive(FrameReceiver receiver)
    {
        if (_reader is not null)
            throw new InvalidOperationException("the TAP interface was started with a reader thread; it cannot also be read through its FrameSource");
        var buffer = _loopBuffer ??= NewReadBuffer();
        if (!Enter())
            return 0;
        try
        {
            return ReadError is null ? Math.Max(ReadOne(buffer, receiver), 0) : 0;
        }
        finally
        {
            Leave();
        }
    }

    // Reads one frame into `buffer` and delivers it: its length, 0 when none waits (EAGAIN), or -1 when the
    // device failed (deleted under us; ReadError says why), after which nobody reads it again rather than
    // spin on a descriptor that stays readable.
    private int ReadOne(byte[] buffer, FrameReceiver receiver)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = LinuxNative.Read(_fd, p, buffer.Length);
                if (n > 0)
                {
                    Deliver(receiver, new ReadOnlySpan<byte>(p, (int)n));
                    return (int)n;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (n < 0 && errno == LinuxNative.EINTR)
                    continue;
                if (n < 0 && errno == LinuxNative.EAGAIN)
                    return 0;
                ReadError = n == 0 ? "end of file" : Marshal.GetPInvokeErrorMessage(errno);
                return -1;
            }
        }
    }

    void IFrameSource.Wait()
    {
        if (!Enter())
        {
            // Disposed under a running stack: no frame will come, but its commands still end the wait.
            _interruptedAfterDispose.Wait();
            _interruptedAfterDispose.Reset();
            return;
        }
        try
        {
            var fds = stackalloc LinuxNative.PollFd[2];
            fds[0] = new LinuxNative.PollFd { Fd = _wake, Events = LinuxNative.POLLIN };
            fds[1] = new LinuxNative.PollFd { Fd = _fd, Events = LinuxNative.POLLIN };
            // Once reading failed the device stays "ready" (an error): wait for interrupts only.
            if (LinuxNative.Poll(fds, ReadError is null ? 2u : 1u, -1) > 0 && fds[0].Revents != 0)
            {
                ulong count;
                LinuxNative.Read(_wake, (byte*)&count, sizeof(ulong)); // resets the eventfd's counter
            }
        }
        finally
        {
            Leave();
        }
    }

    void IFrameSource.Interrupt()
    {
        if (!Enter())
        {
            _interruptedAfterDispose.Set();
            return;
        }
        try
        {
            ulong one = 1;
            LinuxNative.Write(_wake, (byte*)&one, sizeof(ulong));
        }
        finally
        {
            Leave();
        }
    }

    private void ReadLoop(FrameReceiver receiver)
    {
        var buffer = NewReadBuffer();
        var fds = stackalloc LinuxNative.PollFd[2];
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
            // Drain what is queued; EAGAIN ends the batch, a failed device the reader.
            int read;
            while ((read = ReadOne(buffer, receiver)) > 0) { }
            if (read < 0)
                return;
        }
    }

    private void Deliver(FrameReceiver receiver, ReadOnlySpan<byte> read)
    {
        if (!_vnet)
        {
            receiver(read, default);
            return;
        }
        if (!TryUnwrap(read, out var frame, out var offload, out _))
        {
            Interlocked.Increment(ref _headerDrops);
            return;
        }
        if (offload.SegmentSize != 0)
            Interlocked.Increment(ref _segmentedIn);
        receiver(frame, offload);
    }

    /// <summary>
    /// Splits one read of an offloading device into its frame and what its virtio-net header says; false
    /// (the frame is to be dropped) when the header is malformed or asks for what we did not accept.
    /// </summary>
    internal static bool TryUnwrap(ReadOnlySpan<byte> read, out ReadOnlySpan<byte> frame, out FrameOffload offload, out VirtioNetHeaderError error)
    {
        frame = default;
        offload = default;
        if (!VirtioNetHeader.TryParse(read, out var header, out error))
            return false;
        frame = read[VirtioNetHeader.Length..];
        offload = new FrameOffload
        {
            ChecksumTrusted = header.ChecksumTrusted,
            ChecksumStart = header.NeedsChecksum ? header.ChecksumStart : (ushort)0,
            ChecksumOffset = header.NeedsChecksum ? header.ChecksumOffset : (ushort)0,
            SegmentSize = header.IsSegmented ? header.GsoSize : (ushort)0,
        };
        return true;
    }

    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> frame) => Transmit(frame, default, default);

    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> frame, in FrameOffload offload) => Transmit(frame, default, offload);

    /// <summary>
    /// Sends one frame given in two parts (headers, then the payload where it lies) with one writev(2): the
    /// kernel copies the payload straight from the caller's buffer.
    /// </summary>
    public void Transmit(ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload, in FrameOffload offload)
    {
        if (!_vnet)
        {
            if (offload.NeedsLink)
                throw new NotSupportedException($"TAP device {Name} was opened without offloads; send complete frames");
            Write(default, headers, payload);
            return;
        }
        var header = new VirtioNetHeader(
            offload.ChecksumStart != 0 ? VirtioNetHeader.FlagNeedsChecksum : (byte)0,
            offload.SegmentSize != 0 ? VirtioNetHeader.GsoTcpV4 : VirtioNetHeader.GsoNone,
            offload.HeaderLength, offload.SegmentSize, offload.ChecksumStart, offload.ChecksumOffset);
        Span<byte> prefix = stackalloc byte[VirtioNetHeader.Length];
        header.Emit(prefix);
        if (Write(prefix, headers, payload) && header.IsSegmented)
            Interlocked.Increment(ref _segmentedOut);
    }

    // Dispose waits for every call that entered to leave before closing, so none lands on a reused descriptor.
    private bool Enter()
    {
        Interlocked.Increment(ref _users);
        if (Volatile.Read(ref _disposed) == 0)
            return true;
        Interlocked.Decrement(ref _users);
        return false;
    }

    private void Leave() => Interlocked.Decrement(ref _users);

    // One writev(2) of the virtio-net header (offload mode; else empty) and the frame's parts: the kernel wants
    // a frame in one call.
    private bool Write(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload)
    {
        if (!Enter())
            return false;
        try
        {
            fixed (byte* v = prefix)
            fixed (byte* h = headers)
            fixed (byte* p = payload)
            {
                var vectors = stackalloc LinuxNative.IoVec[3];
                int count = 0;
                if (!prefix.IsEmpty)
                    vectors[count++] = new LinuxNative.IoVec { Base = v, Length = (nuint)prefix.Length };
                vectors[count++] = new LinuxNative.IoVec { Base = h, Length = (nuint)headers.Length };
                if (!payload.IsEmpty)
                    vectors[count++] = new LinuxNative.IoVec { Base = p, Length = (nuint)payload.Length };
                nint length = prefix.Length + headers.Length + payload.Length;
                nint written = count == 1 ? LinuxNative.Write(_fd, h, headers.Length) : LinuxNative.Writev(_fd, vectors, count);
                if (written == length)
                    return true;
                Interlocked.Increment(ref _writeDrops);
                return false;
            }
        }
        finally
        {
            Leave();
        }
    }

    /// <summary>Stops the reader thread (or ends a loop's wait) and closes the device.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _interruptedAfterDispose.Set(); // a loop about to wait rechecks its work first
        _closing = true;
        ulong one = 1;
        LinuxNative.Write(_wake, (byte*)&one, sizeof(ulong));
        if (_reader is not null && Thread.CurrentThread != _reader)
            _reader.Join();
        SpinWait.SpinUntil(() => Volatile.Read(ref _users) == 0);
        LinuxNative.Close(_fd);
        LinuxNative.Close(_wake);
    }

    private static IOException Failure(string what, string advice) =>
        new($"could not {what} (errno {Marshal.GetLastPInvokeError()}: {Marshal.GetLastPInvokeErrorMessage()}); {advice}");
}
