// Read this first: StaticFileMiddleware opens, locks, reads (on a thread-pool hop, with a fresh 64 KiB FileStream
// buffer) and closes the file on every request. For the small files an appliance serves, this provider keeps the
// bytes in memory instead. Every lookup still goes through the PhysicalFileProvider (one stat, its traversal and
// hidden-file rules), and a cached copy is used only while the file's length and modification time are unchanged,
// so an edited file is served new on the very next request.
using System.Collections.Concurrent;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace Apps.Http.Service;

/// <summary>
/// A <see cref="PhysicalFileProvider"/> whose small files (up to <paramref name="maxFileBytes"/>, within a total of
/// <paramref name="maxTotalBytes"/>) are served from memory, revalidated by length and modification time on each lookup.
/// </summary>
internal sealed class CachedFileProvider(PhysicalFileProvider files, int maxFileBytes = CachedFileProvider.DefaultMaxFileBytes,
    long maxTotalBytes = CachedFileProvider.DefaultMaxTotalBytes) : IFileProvider, IDisposable
{
    /// <summary>Files larger than this are streamed from disk as before.</summary>
    public const int DefaultMaxFileBytes = 1 << 20;

    /// <summary>Memory all cached files may take together; beyond it other files are read from disk on each request.</summary>
    public const long DefaultMaxTotalBytes = 64L << 20;

    private readonly ConcurrentDictionary<string, CachedFileInfo> _cache = new(StringComparer.Ordinal);
    private long _totalBytes;

    /// <summary>Bytes held in memory now.</summary>
    public long TotalBytes => Interlocked.Read(ref _totalBytes);

    public IFileInfo GetFileInfo(string subpath)
    {
        var info = files.GetFileInfo(subpath);
        if (!info.Exists || info.IsDirectory || info.Length > maxFileBytes || string.IsNullOrEmpty(info.PhysicalPath))
        {
            return info;
        }

        if (_cache.TryGetValue(info.PhysicalPath, out var cached) && cached.Length == info.Length && cached.LastModified == info.LastModified)
        {
            return cached;
        }

        return Load(info, cached) ?? info;
    }

    public IDirectoryContents GetDirectoryContents(string subpath) => files.GetDirectoryContents(subpath);

    public IChangeToken Watch(string filter) => files.Watch(filter);

    public void Dispose() => files.Dispose();

    /// <summary>Reads the file and caches it if it did not change while being read and fits the budget; null means serve it from disk.</summary>
    private CachedFileInfo? Load(IFileInfo info, CachedFileInfo? stale)
    {
        var path = info.PhysicalPath!;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // let the middleware report it as it would have
        }

        var after = new FileInfo(path);
        if (bytes.Length != info.Length || !after.Exists || after.Length != info.Length || after.LastWriteTimeUtc != info.LastModified.UtcDateTime)
        {
            return null; // written to while we read it: serve from disk this time
        }

        var fresh = new CachedFileInfo(info.Name, bytes, info.LastModified);
        var added = bytes.Length - (stale?.Length ?? 0);
        if (Interlocked.Add(ref _totalBytes, added) > maxTotalBytes)
        {
            Interlocked.Add(ref _totalBytes, -added);
            return stale is null ? fresh : Evict(path, stale, fresh); // served from this read, not kept
        }

        if (stale is null ? !_cache.TryAdd(path, fresh) : !_cache.TryUpdate(path, fresh, stale))
        {
            Interlocked.Add(ref _totalBytes, -added); // another request cached it first
        }

        return fresh;
    }

    /// <summary>Over budget with an outdated copy cached: drop that copy and serve this one uncached.</summary>
    private CachedFileInfo Evict(string path, CachedFileInfo stale, CachedFileInfo fresh)
    {
        if (_cache.TryRemove(new KeyValuePair<string, CachedFileInfo>(path, stale)))
        {
            Interlocked.Add(ref _totalBytes, -stale.Length);
        }

        return fresh;
    }

    /// <summary>A file's bytes as read; <see cref="PhysicalPath"/> is null so the middleware streams <see cref="CreateReadStream"/>.</summary>
    private sealed class CachedFileInfo(string name, byte[] bytes, DateTimeOffset lastModified) : IFileInfo
    {
        public bool Exists => true;

        public long Length => bytes.Length;

        public string? PhysicalPath => null;

        public string Name => name;

        public DateTimeOffset LastModified => lastModified;

        public bool IsDirectory => false;

        public Stream CreateReadStream() => new MemoryStream(bytes, writable: false);
    }
}
