namespace Apps.Tls.Entropy.Sources;

/// <summary>
/// One pluggable source of entropy events. The <see cref="EntropyCollector"/> polls it on its
/// own schedule, feeds what it gathers into Fortuna and keeps its health; a source that throws
/// is retried with back-off and never takes the process down.
/// </summary>
public abstract class EntropySource
{
    /// <summary>A short name for status displays and logs (e.g. <c>os</c>, <c>hwrng</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The id its events carry into Fortuna (see <see cref="EntropySourceIds"/>).</summary>
    public abstract byte SourceId { get; }

    /// <summary>How often to poll it when healthy.</summary>
    public abstract TimeSpan Interval { get; }

    /// <summary>What the source draws on, for status displays (e.g. the device path).</summary>
    public virtual string Description => Name;

    /// <summary>Null when the source can run here; otherwise why not (it is then never polled).</summary>
    public virtual string? UnavailableReason => null;

    /// <summary>
    /// Gathers one event of 1 to <see cref="Fortuna.MaxEventBytes"/> bytes into <paramref name="buffer"/>
    /// and returns its length, or 0 when there is nothing this time (not a failure). Throws on failure.
    /// </summary>
    public abstract ValueTask<int> GatherAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}

/// <summary>A source's failure with a reason for people (the collector logs the message).</summary>
public sealed class EntropySourceException : Exception
{
    public EntropySourceException(string message) : base(message) { }

    public EntropySourceException(string message, Exception inner) : base(message, inner) { }
}
