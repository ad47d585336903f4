// Read this first: StaticFileMiddleware opens, locks, reads (on a thread-pool hop, with a fresh 64 KiB FileStream
// buffer) and closes the file on every request, and DefaultFilesMiddleware and the file lookup stat it twice more.
// For the small files an appliance serves, this provider keeps the bytes in memory and answers both lookups from
// there. A cached file is checked against the disk again (through PhysicalFileProvider: one stat, with its traversal
// and hidden-file rules) once its last check is older than the revalidation period, one second by default, as nginx's
// open_file_cache_valid does: an edited, replaced or deleted file is served as it now is at most that long after.
// A cached copy's PhysicalPath is a string instance of its own: StaticFileMiddleware hands it to the response's
// SendFileAsync, where CachedFileBody recognises it by reference (TryGetCopy) and writes the copy straight into the
// response, instead of a MemoryStream copied through a 64 KiB buffer. A path it does not recognise is the disk's.
// A copy also keeps its Brotli and gzip forms once a client has asked for them (TryGetEncodedCopy), compressed once
// at the best ratio instead of at the fastest setting on every request. That compression runs in the background
// (Brotli's best takes up to half a second for a few hundred KiB), and requests meanwhile are compressed as they are
// sent, as before. The coded forms count against the same memory budget and go with their copy.
// CachedFileFastPath asks GetFresh, which never touches the disk: a copy checked within the period is answered there,
// and the first request after it goes through GetFileInfo, which checks.
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Primitives;

namespace Apps.Http.Service;

/// <summary>
/// A <see cref="PhysicalFileProvider"/> whose small files (up to <c>maxFileBytes</c>, within a total of
/// <c>maxTotalBytes</c>) are served from memory and checked against the disk's length and modification time once
/// per <c>revalidateAfter</c>.
/// </summary>
internal sealed class CachedFileProvider : IFileProvider, IDisposable
{
    /// <summary>Files larger than this are streamed from disk as before.</summary>
    public const int DefaultMaxFileBytes = 1 << 20;

    /// <summary>Memory all cached files may take together; beyond it other files are read from disk on each request.</summary>
    public const long DefaultMaxTotalBytes = 64L << 20;

    /// <summary>How long a cached file is served without looking at the disk.</summary>
    public static readonly TimeSpan DefaultRevalidateAfter = TimeSpan.FromSeconds(1);

    private readonly PhysicalFileProvider _files;
    private readonly TimeProvider _time;
    private readonly TimeSpan _revalidateAfter;
    private readonly int _maxFileBytes;
    private readonly long _maxTotalBytes;

    // Keyed by the subpath the middleware asks for; only lookups the physical provider accepted ever create an entry.
    private readonly ConcurrentDictionary<string, CachedFileInfo> _cache = new(StringComparer.Ordinal);
    private long _totalBytes;

    // Every copy handed out, by its own PhysicalPath instance; an entry lives as long as its copy does.
    private readonly ConditionalWeakTable<string, CachedFileInfo> _copies = new();

    // Where coded forms are made: the thread pool, or the caller's thread in tests.
    private readonly Action<Action> _background;

    public CachedFileProvider(PhysicalFileProvider files, TimeProvider? time = null, TimeSpan? revalidateAfter = null,
        int maxFileBytes = DefaultMaxFileBytes, long maxTotalBytes = DefaultMaxTotalBytes, Action<Action>? background = null)
    {
        _background = background ?? (work => ThreadPool.UnsafeQueueUserWorkItem(static w => w(), work, preferLocal: false));
        _files = files;
        _time = time ?? TimeProvider.System;
        _revalidateAfter = revalidateAfter ?? DefaultRevalidateAfter;
        _maxFileBytes = maxFileBytes;
        _maxTotalBytes = maxTotalBytes;
    }

    /// <summary>Bytes held in memory now.</summary>
    public long TotalBytes => Interlocked.Read(ref _totalBytes);

    public IFileInfo GetFileInfo(string subpath)
    {
        var now = _time.GetTimestamp();
        if (_cache.TryGetValue(subpath, out var cached) && !IsDue(cached, now))
        {
            return cached;
        }

        var info = _files.GetFileInfo(subpath);
        if (!info.Exists || info.IsDirectory || info.Length > _maxFileBytes || string.IsNullOrEmpty(info.PhysicalPath))
        {
            if (cached is not null)
            {
                Remove(subpath, cached);
            }

            return info;
        }

        if (cached is not null && cached.Length == info.Length && cached.LastModified == info.LastModified)
        {
            cached.CheckedAt = now;
            return cached;
        }

        return Load(subpath, info, cached, now) ?? info;
    }

    /// <summary>
    /// The copy the cache holds for <paramref name="subpath"/> when its last check against the disk is within the
    /// revalidation period, without touching the disk; null otherwise (the caller then goes through
    /// <see cref="GetFileInfo"/>, which checks).
    /// </summary>
    public CachedFileInfo? GetFresh(string subpath) =>
        _cache.TryGetValue(subpath, out var cached) && !IsDue(cached, _time.GetTimestamp()) ? cached : null;

    /// <summary>A path the cache holds as a file, freshly checked, is no directory: that saves DefaultFilesMiddleware's stat.</summary>
    public IDirectoryContents GetDirectoryContents(string subpath)
    {
        var asFile = subpath.Length > 1 && subpath[^1] == '/' ? subpath[..^1] : subpath;
        return _cache.TryGetValue(asFile, out var cached) && !IsDue(cached, _time.GetTimestamp())
            ? NotFoundDirectoryContents.Singleton
            : _files.GetDirectoryContents(subpath);
    }

    /// <summary>
    /// The copy's bytes in a content coding ("br", "gzip"), once made. The first request for a coding starts making it
    /// in the background, once per copy and coding. False until it is ready, and for a path that is not a copy this
    /// cache holds, a coding <see cref="ContentCoding"/> does not make, or when the memory budget has no room: the
    /// caller then compresses as it sends, as for any other file.
    /// </summary>
    public bool TryGetEncodedCopy(string physicalPath, string coding, out ReadOnlyMemory<byte> bytes)
    {
        bytes = default;
        if (!ContentCoding.IsKnown(coding) || !_copies.TryGetValue(physicalPath, out var copy))
        {
            return false;
        }

        lock (copy.Gate)
        {
            if (copy.TryGetEncoded(coding, out bytes))
            {
                return true;
            }

            // Its coded form is not larger than the file, save for a few bytes of framing on tiny ones.
            if (!copy.Held || Interlocked.Read(ref _totalBytes) + copy.Length + 64 > _maxTotalBytes || !copy.TryStartEncoding(coding))
            {
                return false;
            }
        }

        _background(() => Encode(copy, coding));
        return false;
    }

    /// <summary>The bytes of the copy whose <see cref="IFileInfo.PhysicalPath"/> is this very string instance; false
    /// for any other string, even an equal one (that path is then the disk's file).</summary>
    public bool TryGetCopy(string physicalPath, out ReadOnlyMemory<byte> bytes)
    {
        if (_copies.TryGetValue(physicalPath, out var copy))
        {
            bytes = copy.Bytes;
            return true;
        }

        bytes = default;
        return false;
    }

    public IChangeToken Watch(string filter) => _files.Watch(filter);

    public void Dispose() => _files.Dispose();

    private bool IsDue(CachedFileInfo cached, long now) => _time.GetElapsedTime(cached.CheckedAt, now) >= _revalidateAfter;

    /// <summary>Reads the file and caches it if it did not change while being read and fits the budget; null means serve it from disk.</summary>
    private CachedFileInfo? Load(string subpath, IFileInfo info, CachedFileInfo? stale, long now)
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

        var fresh = new CachedFileInfo(info.Name, new string(path.AsSpan()), bytes, info.LastModified) { CheckedAt = now };
        if (stale is not null)
        {
            Remove(subpath, stale);
        }

        // Held before it is in the cache, where Remove can find it; known by its path only once that is settled.
        fresh.Held = true;
        if (Interlocked.Add(ref _totalBytes, bytes.Length) > _maxTotalBytes || !_cache.TryAdd(subpath, fresh))
        {
            fresh.Held = false;
            Interlocked.Add(ref _totalBytes, -bytes.Length); // over budget, or another request cached it first: serve this read uncached
        }

        _copies.AddOrUpdate(fresh.PhysicalPath, fresh);
        return fresh;
    }

    private void Encode(CachedFileInfo copy, string coding)
    {
        byte[]? encoded = null;
        try
        {
            encoded = ContentCoding.Encode(copy.Bytes.Span, coding);
        }
        catch (InvalidOperationException)
        {
            // The encoder refused (it cannot, within its own output bound): requests go on compressing as they send.
        }
        finally
        {
            lock (copy.Gate)
            {
                // A copy removed meanwhile (edited, deleted) is no longer counted: its coded form is dropped.
                if (encoded is not null && copy.Held && Interlocked.Add(ref _totalBytes, encoded.Length) <= _maxTotalBytes)
                {
                    copy.AddEncoded(coding, encoded);
                }
                else if (encoded is not null && copy.Held)
                {
                    Interlocked.Add(ref _totalBytes, -encoded.Length);
                }

                copy.EndEncoding(coding);
            }
        }
    }

    private void Remove(string subpath, CachedFileInfo cached)
    {
        if (_cache.TryRemove(new KeyValuePair<string, CachedFileInfo>(subpath, cached)))
        {
            // Requests still sending this copy keep its coded forms; the budget stops counting them now.
            lock (cached.Gate)
            {
                cached.Held = false;
                Interlocked.Add(ref _totalBytes, -(cached.Length + cached.EncodedLength));
            }
        }
    }

    /// <summary>A file's bytes as read, and a <see cref="PhysicalPath"/> instance that names this copy.</summary>
    internal sealed class CachedFileInfo(string name, string physicalPath, byte[] bytes, DateTimeOffset lastModified) : IFileInfo
    {
        private long _checkedAt;
        private string? _etag;
        private string? _lastModifiedHeader;
        private string? _weakETag;

        // At most one entry per coding ContentCoding makes, and the codings being made; read and written under Gate.
        private (string Coding, byte[] Bytes)[] _encoded = [];
        private string[] _encoding = [];

        /// <summary>Guards <see cref="Held"/> and the coded forms.</summary>
        public Lock Gate { get; } = new();

        /// <summary>Whether the cache holds this copy and counts it in its budget (under <see cref="Gate"/> once published).</summary>
        public bool Held { get; set; }

        /// <summary>Bytes of the coded forms made so far (under <see cref="Gate"/>).</summary>
        public long EncodedLength { get; private set; }

        public bool TryGetEncoded(string coding, out ReadOnlyMemory<byte> encoded)
        {
            foreach (var (name, bytes) in _encoded)
            {
                if (name == coding)
                {
                    encoded = bytes;
                    return true;
                }
            }

            encoded = default;
            return false;
        }

        public void AddEncoded(string coding, byte[] encoded)
        {
            _encoded = [.. _encoded, (coding, encoded)];
            EncodedLength += encoded.Length;
        }

        /// <summary>False while that coding is already being made.</summary>
        public bool TryStartEncoding(string coding)
        {
            if (_encoding.Contains(coding))
            {
                return false;
            }

            _encoding = [.. _encoding, coding];
            return true;
        }

        public void EndEncoding(string coding) => _encoding = Array.FindAll(_encoding, c => c != coding);

        /// <summary>When the disk last agreed with this copy (a <see cref="TimeProvider"/> timestamp).</summary>
        public long CheckedAt
        {
            get => Interlocked.Read(ref _checkedAt);
            set => Interlocked.Exchange(ref _checkedAt, value);
        }

        public bool Exists => true;

        public long Length => bytes.Length;

        public string PhysicalPath => physicalPath;

        public ReadOnlyMemory<byte> Bytes => bytes;

        public string Name => name;

        public DateTimeOffset LastModified => lastModified;

        public bool IsDirectory => false;

        public Stream CreateReadStream() => new MemoryStream(bytes, writable: false);

        /// <summary>The strong ETag StaticFileMiddleware gives this file: its modification time, to the second, as a
        /// FILETIME, XOR its length, in hex (made once per copy).</summary>
        public string ETag => _etag ??= '"' + Convert.ToString(LastModifiedToTheSecond.ToFileTime() ^ bytes.Length, 16) + '"';

        /// <summary>The ETag of a coded form of this copy (ContentCodingHeaders).</summary>
        public string WeakETag => _weakETag ??= "W/" + ETag;

        /// <summary>Last-Modified as StaticFileMiddleware writes it (RFC 9110 §5.6.7 IMF-fixdate, made once per copy).</summary>
        public string LastModifiedHeader => _lastModifiedHeader ??= LastModifiedToTheSecond.ToString("r", System.Globalization.CultureInfo.InvariantCulture);

        private DateTimeOffset LastModifiedToTheSecond =>
            new DateTimeOffset(lastModified.Year, lastModified.Month, lastModified.Day, lastModified.Hour, lastModified.Minute, lastModified.Second, lastModified.Offset).ToUniversalTime();
    }
}
