using System.Runtime.InteropServices;
using Apps.Tls.Entropy.Storage;

namespace Apps.Tls.Entropy.Sources;

/// <summary>
/// The kernel's hardware RNG device (/dev/hwrng): on a virtual machine with virtio-rng the
/// bytes come from the host's own generator. Reads are bounded (32 bytes) and non-blocking
/// (O_NONBLOCK): a device with nothing ready yields no event this time, never a stalled thread.
/// </summary>
public sealed class HardwareRngSource : EntropySource
{
    private readonly HostPlatform _platform;
    private readonly byte[] _buffer = new byte[Fortuna.MaxEventBytes];

    public HardwareRngSource(HostPlatform platform) => _platform = platform;

    public override string Name => "hwrng";

    public override byte SourceId => EntropySourceIds.HardwareRng;

    public override TimeSpan Interval => TimeSpan.FromSeconds(1);

    public override string Description =>
        $"{_platform.HardwareRngDevice ?? "/dev/hwrng"} ({_platform.HardwareRng ?? "no device"}{(_platform.HardwareRngFromHost ? ", fed by the hypervisor host" : "")})";

    public override string? UnavailableReason =>
        !OperatingSystem.IsLinux() ? "not Linux"
        : _platform.HardwareRng is null ? "the kernel exposes no hardware RNG (/sys/class/misc/hw_random/rng_current)"
        : _platform.HardwareRngDevice is null ? "no /dev/hwrng device node"
        : null;

    public override ValueTask<int> GatherAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        string path = _platform.HardwareRngDevice ?? throw new EntropySourceException("no hardware RNG device");
        int fd = Posix.Open(path, Posix.O_RDONLY | Posix.O_NONBLOCK | Posix.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new EntropySourceException($"cannot open {path}: {Posix.ErrorText(errno)}");
        }
        try
        {
            nint n = Posix.Read(fd, _buffer, _buffer.Length);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno is Posix.EAGAIN or Posix.EINTR)
                {
                    return ValueTask.FromResult(0);
                }
                throw new EntropySourceException($"reading {path} failed: {Posix.ErrorText(errno)}");
            }
            _buffer.AsSpan(0, (int)n).CopyTo(buffer.Span);
            Array.Clear(_buffer);
            return ValueTask.FromResult((int)n);
        }
        finally
        {
            Posix.Close(fd);
        }
    }
}
