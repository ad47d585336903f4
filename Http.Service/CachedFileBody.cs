using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Apps.Http.Service;

/// <summary>
/// The response body, with one change: sending a file that <see cref="CachedFileProvider"/> holds in memory writes
/// that copy into the response's writer (one copy, into Kestrel's buffer, as nginx copies a file once from its page
/// cache). Any other file goes to the feature underneath, which reads the disk.
/// </summary>
internal sealed class CachedFileBody(IHttpResponseBodyFeature inner, CachedFileProvider files) : IHttpResponseBodyFeature
{
    public Stream Stream => inner.Stream;

    public PipeWriter Writer => inner.Writer;

    public void DisableBuffering() => inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    public Task CompleteAsync() => inner.CompleteAsync();

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        if (!files.TryGetCopy(path, out var bytes))
        {
            return inner.SendFileAsync(path, offset, count, cancellationToken);
        }

        // The same checks as Kestrel's own SendFileAsync makes of a file on disk.
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, bytes.Length);
        var length = count ?? bytes.Length - offset;
        ArgumentOutOfRangeException.ThrowIfNegative(length, nameof(count));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, bytes.Length - offset, nameof(count));
        var flushed = inner.Writer.WriteAsync(bytes.Slice((int)offset, (int)length), cancellationToken);
        return flushed.IsCompletedSuccessfully ? Task.CompletedTask : flushed.AsTask();
    }
}
