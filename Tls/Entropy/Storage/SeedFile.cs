using Microsoft.Extensions.Logging;

namespace Apps.Tls.Entropy.Storage;

/// <summary>How loading a seed file went.</summary>
public enum SeedFileLoad
{
    /// <summary>The file seeded the generator and was replaced with fresh output.</summary>
    Restored,
    /// <summary>There was no seed file yet.</summary>
    Missing,
    /// <summary>The file had the wrong size and was not used; it will be rewritten.</summary>
    Invalid,
}

/// <summary>
/// Fortuna's seed file ("Cryptography Engineering" §9.6.5): 64 bytes of generator output
/// that seed the next start. Read once at start and overwritten at once, so that one seed
/// never seeds two runs; rewritten periodically and at shutdown.
/// </summary>
/// <remarks>
/// Every write goes to a fresh temporary file in the same directory (mode 0600 from creation),
/// is fsynced, renamed over the old file and the directory is fsynced: a crash at any point
/// leaves either the old file or the new one, never a short one.
/// </remarks>
public sealed class SeedFile
{
    /// <summary>The size of a seed file.</summary>
    public const int SeedBytes = 64;

    private const string TempMarker = ".tmp-";
    private static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);
    private readonly ILogger? _logger;
    private readonly TimeProvider _time;

    public SeedFile(string path, ILogger? logger = null, TimeProvider? time = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The file's absolute path.</summary>
    public string Path { get; }

    /// <summary>
    /// Seeds <paramref name="fortuna"/> from the file if it holds a valid seed, then overwrites the file
    /// with fresh output. Stale temporary files from an interrupted write are removed.
    /// </summary>
    public SeedFileLoad Load(Fortuna fortuna)
    {
        RemoveStaleTemporaries();
        byte[] seed;
        try
        {
            seed = File.ReadAllBytes(Path);
        }
        catch (FileNotFoundException)
        {
            return SeedFileLoad.Missing;
        }
        catch (DirectoryNotFoundException)
        {
            return SeedFileLoad.Missing;
        }
        if (seed.Length != SeedBytes)
        {
            EntropyLog.SeedFileInvalid(_logger, Path, seed.Length, SeedBytes);
            return SeedFileLoad.Invalid;
        }
        // The saved seed is mixed with fresh operating-system randomness: two processes that
        // share a data directory, or two VMs cloned from one image, must not start alike.
        byte[] mixed = new byte[SeedBytes + 32];
        seed.CopyTo(mixed, 0);
        System.Security.Cryptography.RandomNumberGenerator.Fill(mixed.AsSpan(SeedBytes));
        fortuna.RestoreSeed(mixed);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(mixed);
        Write(fortuna);
        return SeedFileLoad.Restored;
    }

    /// <summary>Replaces the file, atomically, with <see cref="SeedBytes"/> bytes of fresh output.</summary>
    /// <exception cref="EntropyNotSeededException">Fortuna is not seeded yet.</exception>
    public void Write(Fortuna fortuna)
    {
        Span<byte> seed = stackalloc byte[SeedBytes];
        fortuna.Fill(seed);
        try
        {
            WriteAtomically(seed);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
        }
    }

    private void WriteAtomically(ReadOnlySpan<byte> seed)
    {
        string directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory);
        string temporary = $"{Path}{TempMarker}{Environment.ProcessId}-{Guid.NewGuid():N}";
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(seed);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, Path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
        Posix.SyncDirectory(directory);
    }

    private void RemoveStaleTemporaries()
    {
        string? directory = System.IO.Path.GetDirectoryName(Path);
        if (directory is null || !Directory.Exists(directory))
        {
            return;
        }
        foreach (string stale in Directory.EnumerateFiles(directory, System.IO.Path.GetFileName(Path) + TempMarker + "*"))
        {
            // A young temporary may belong to another process that is about to rename it.
            if (_time.GetUtcNow().UtcDateTime - File.GetLastWriteTimeUtc(stale) < StaleAfter)
            {
                continue;
            }
            try
            {
                File.Delete(stale);
            }
            catch (IOException)
            {
                // Another process may be finishing its write; its rename will clear it.
            }
        }
    }
}
