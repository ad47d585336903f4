using System.Runtime.InteropServices;

namespace Apps.Tls.Entropy.Storage;

/// <summary>
/// The few libc calls .NET does not offer: non-blocking opens of character devices
/// (/dev/hwrng must never stall a thread) and fsync of a directory after a rename.
/// </summary>
internal static partial class Posix
{
    internal const int O_RDONLY = 0x0;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_DIRECTORY = 0x10000;
    internal const int O_CLOEXEC = 0x80000;
    internal const int EAGAIN = 11;
    internal const int EINTR = 4;

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    internal static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    internal static extern nint Read(int fd, byte[] buffer, nint count);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    internal static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    internal static extern int Close(int fd);

    /// <summary>Makes a rename durable: fsync(2) on the directory that holds the entry.</summary>
    internal static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        int fd = Open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
        {
            return; // best effort: the data itself was fsynced before the rename
        }
        Fsync(fd);
        Close(fd);
    }

    internal static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
