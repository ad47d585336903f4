using LiteDB;

namespace Apps.TrustStore.Store;

/// <summary>
/// Opens the LiteDB file in shared mode so that several processes (the chat client, the
/// HTTPS service, <c>trust</c>) can use it at once, after checking that an existing file
/// really is a LiteDB 5 database: a damaged file is reported, never replaced.
/// </summary>
internal static class DatabaseFile
{
    // LiteDB 5 page 0 (the header page): after the 32-byte page header comes the marker
    // text, then the file format version byte (8 for LiteDB 5).
    private const int MarkerOffset = 32;
    private static readonly byte[] Marker = "** This is a LiteDB file **"u8.ToArray();
    private const byte FormatVersion = 8;
    private const int PageSize = 8192;

    /// <summary>Checks the header (if the file exists) and opens the database.</summary>
    public static LiteDatabase Open(string path)
    {
        string? dir = Path.GetDirectoryName(path);
        try
        {
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            if (Directory.Exists(path))
                throw new TrustStoreException(TrustStoreError.DatabaseInaccessible,
                    $"{path} is a directory, not a trust database; remove it or pass another --data-dir");
            if (File.Exists(path)) CheckHeader(path);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new TrustStoreException(TrustStoreError.DatabaseInaccessible,
                $"cannot use trust database {path}: {e.Message}; check its permissions or pass another --data-dir", e);
        }

        var connection = new ConnectionString
        {
            Filename = path,
            Connection = ConnectionType.Shared,
        };
        try
        {
            return new LiteDatabase(connection);
        }
        catch (Exception e) when (IsDamage(e))
        {
            throw Corrupt(path, e.Message, e);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new TrustStoreException(TrustStoreError.DatabaseInaccessible,
                $"cannot open trust database {path}: {e.Message}; check its permissions or pass another --data-dir", e);
        }
    }

    /// <summary>
    /// Whether an exception escaping LiteDB means the file's content is unusable. LiteDB reports
    /// most damage as LiteException, but garbage in a page can surface as any of these.
    /// </summary>
    public static bool IsDamage(Exception e) =>
        e is LiteException or InvalidCastException or ArgumentException or IndexOutOfRangeException
            or OverflowException or EndOfStreamException or NullReferenceException;

    /// <summary>The error for a damaged file: names it, says it was left alone, and how to start over.</summary>
    public static TrustStoreException Corrupt(string path, string why, Exception? inner = null) =>
        new(TrustStoreError.DatabaseCorrupt,
            $"trust database {path} is damaged or not a LiteDB file ({why}); it was left unchanged: " +
            $"restore it from a backup, or move it aside (mv '{path}' '{path}.damaged') to start with an empty store",
            inner);

    private static void CheckHeader(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long length = file.Length;
        // An empty file holds no pins; LiteDB initialises it in place.
        if (length == 0) return;
        if (length < PageSize)
            throw Corrupt(path, $"{length} bytes is shorter than one {PageSize}-byte page");
        Span<byte> head = stackalloc byte[MarkerOffset + 28];
        file.ReadExactly(head);
        if (!head.Slice(MarkerOffset, Marker.Length).SequenceEqual(Marker))
            throw Corrupt(path, "no LiteDB header");
        if (head[MarkerOffset + Marker.Length] != FormatVersion)
            throw Corrupt(path, $"LiteDB file format {head[MarkerOffset + Marker.Length]}, expected {FormatVersion}");
    }
}
