using System.IO.MemoryMappedFiles;

namespace Apps.TrustStore.Store;

/// <summary>
/// A cross-process change counter kept in a small file next to the database
/// (<c>trust.generation</c>) and mapped into memory, so that reading it costs a memory load,
/// not a LiteDB open (which in shared mode re-opens the file for every operation).
/// <para>Invariant: every write transaction bumps the counter while it holds LiteDB's
/// cross-process lock, before it commits. So a reader that sees the same value as when it
/// took a snapshot (under that lock) knows no write has committed since. A writer killed
/// between bump and commit only causes one needless reload.</para>
/// </summary>
internal sealed class StoreGeneration : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    private StoreGeneration(MemoryMappedFile file, MemoryMappedViewAccessor view)
    {
        _file = file;
        _view = view;
    }

    /// <summary>The counter file for a database path.</summary>
    public static string PathFor(string databasePath) => Path.ChangeExtension(databasePath, ".generation");

    /// <summary>Maps the counter file, creating it if needed; null if that is impossible (then callers read the database directly).</summary>
    public static StoreGeneration? TryOpen(string databasePath)
    {
        MemoryMappedFile? file = null;
        try
        {
            file = MemoryMappedFile.CreateFromFile(PathFor(databasePath), FileMode.OpenOrCreate, null, sizeof(long), MemoryMappedFileAccess.ReadWrite);
            return new StoreGeneration(file, file.CreateViewAccessor(0, sizeof(long), MemoryMappedFileAccess.ReadWrite));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            file?.Dispose();
            return null;
        }
    }

    /// <summary>The current value (an aligned 8-byte load, atomic on every platform .NET runs on).</summary>
    public long Read() => _view.ReadInt64(0);

    /// <summary>Advances the counter. Call only while holding the database's write lock.</summary>
    public void Bump() => _view.Write(0, _view.ReadInt64(0) + 1);

    /// <inheritdoc />
    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}
