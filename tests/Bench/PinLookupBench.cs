using System.Security.Cryptography;
using System.Text;
using Apps.TrustStore.Certificates;
using Apps.TrustStore.Exchange;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;
using BenchmarkDotNet.Attributes;

namespace Apps.Bench;

/// <summary>
/// Pin lookups with 100,000 pins stored (goal: at least 100,000 lookups/s, i.e. at most 10 µs each).
/// Anchor: a plain Dictionary holding the same pins, looked up with the same keys.
/// <c>PinsFor</c> is the public lookup (in-memory snapshot, checked against the cross-process
/// generation counter on every call); <c>LiteDb_shared_read</c> is the same query sent to LiteDB
/// in shared mode, which re-opens the file per operation: what a lookup would cost without the
/// snapshot. Times are per lookup.
///   dotnet run -c Release --project tests/Bench -- --filter '*PinLookup*' --job short
/// </summary>
[MemoryDiagnoser]
public class PinLookupBench
{
    private const int StoredPins = 100_000;
    private const int Lookups = 1024;
    private const int SlowLookups = 16;

    private string _dir = "";
    private PinStore _store = null!;
    private Dictionary<HostPort, Pin[]> _anchor = null!;
    private HostPort[] _keys = [];

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "pin-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        var now = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero);
        var pins = new List<Pin>(StoredPins);
        for (int i = 0; i < StoredPins; i++)
        {
            pins.Add(new Pin
            {
                Service = "https",
                Server = HostPort.Create($"host-{i}.bench", 443),
                Spki = SpkiFingerprint.FromDigest(SHA256.HashData(Encoding.ASCII.GetBytes($"key-{i}"))),
                FirstSeen = now,
                LastSeen = now,
                TrustedBy = TrustedBy.Imported,
            });
        }
        _store = PinStore.Open(Path.Combine(_dir, "trust.db"));
        _store.Import(new PinExport(pins, []), now);
        _anchor = pins.ToDictionary(p => p.Server, p => new[] { p });
        var random = new Random(42);
        _keys = Enumerable.Range(0, Lookups).Select(_ => HostPort.Create($"host-{random.Next(StoredPins)}.bench", 443)).ToArray();
        if (_store.PinsFor(_keys[0]).Count != 1) throw new InvalidOperationException("setup did not store the pins");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    public int Dictionary_lookup()
    {
        int found = 0;
        foreach (HostPort key in _keys)
            if (_anchor.TryGetValue(key, out Pin[]? pins)) found += pins.Length;
        return found;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public int PinStore_PinsFor()
    {
        int found = 0;
        foreach (HostPort key in _keys) found += _store.PinsFor(key).Count;
        return found;
    }

    [Benchmark(OperationsPerInvoke = SlowLookups)]
    public int LiteDb_shared_read()
    {
        int found = 0;
        for (int i = 0; i < SlowLookups; i++) found += _store.ReadPins(_keys[i]).Count;
        return found;
    }
}
