using System.Collections.Concurrent;
using Apps.Tls.Engine;

namespace Apps.Conduit;

/// <summary>One line of <see cref="TlsTally"/>: how often a version, cipher suite and ALPN protocol were negotiated together.</summary>
public sealed record TlsTallyEntry(string Version, string CipherSuite, string ApplicationProtocol, long Count);

/// <summary>
/// Counts what handshakes negotiated, for status pages. Bounded: the key space is the policy's versions ×
/// suites × the ALPN names we offer, so it cannot grow with hostile input.
/// </summary>
public sealed class TlsTally
{
    private readonly ConcurrentDictionary<(TlsVersion Version, string Cipher, string Alpn), long> _counts = new();
    private long _failures;

    /// <summary>Handshakes that failed or timed out.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Counts one completed handshake.</summary>
    public void Record(TlsConnectionInfo info) =>
        _counts.AddOrUpdate((info.Version, info.CipherSuiteName, info.ApplicationProtocol ?? "-"), 1, (_, n) => n + 1);

    /// <summary>Counts one failed handshake.</summary>
    public void RecordFailure() => Interlocked.Increment(ref _failures);

    /// <summary>The counts so far, most frequent first.</summary>
    public IReadOnlyList<TlsTallyEntry> Snapshot()
    {
        var entries = new List<TlsTallyEntry>();
        foreach (var pair in _counts)
        {
            entries.Add(new TlsTallyEntry(TlsNames.Version(pair.Key.Version), pair.Key.Cipher, pair.Key.Alpn, pair.Value));
        }

        entries.Sort((a, b) => b.Count.CompareTo(a.Count));
        return entries;
    }
}
