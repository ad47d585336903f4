using Apps.TrustStore.Policy;
using LiteDB;

namespace Apps.TrustStore.Store;

public sealed partial class PinStore
{
    /// <summary>Above this many pins no snapshot is kept: lookups read the database (slower, bounded memory).</summary>
    public const int MaxSnapshotPins = 250_000;

    private sealed record Snapshot(long Generation, Dictionary<HostPort, Pin[]>? ByServer);

    private Snapshot? _snapshot;

    /// <summary>
    /// The pins of one server, oldest first. Served from an in-memory snapshot of the pins that is
    /// reloaded (in one transaction) whenever any process has written since; see StoreGeneration.
    /// </summary>
    public IReadOnlyList<Pin> PinsFor(HostPort server)
    {
        if (_generation is null) return ReadPins(server);
        Snapshot? snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is null || snapshot.Generation != _generation.Read())
        {
            snapshot = LoadSnapshot();
            Volatile.Write(ref _snapshot, snapshot);
        }
        if (snapshot.ByServer is null) return ReadPins(server);
        return snapshot.ByServer.TryGetValue(server, out Pin[]? pins) ? pins : [];
    }

    private Snapshot LoadSnapshot() => InTransaction(write: false, () =>
    {
        // Under the lock no writer is between its bump and its commit: value and data agree.
        long generation = _generation!.Read();
        if (_pins.Count() > MaxSnapshotPins) return new Snapshot(generation, null);
        var byServer = new Dictionary<HostPort, List<Pin>>();
        foreach (BsonDocument doc in _pins.FindAll())
        {
            Pin pin = BsonMapping.ToPin(doc, FilePath);
            if (!byServer.TryGetValue(pin.Server, out List<Pin>? list)) byServer[pin.Server] = list = [];
            list.Add(pin);
        }
        var frozen = new Dictionary<HostPort, Pin[]>(byServer.Count);
        foreach ((HostPort server, List<Pin> list) in byServer)
        {
            list.Sort((a, b) => a.Id.CompareTo(b.Id));
            frozen[server] = [.. list];
        }
        return new Snapshot(generation, frozen);
    });

    /// <summary>The pins of one server read from the database (inside transactions, or without a snapshot).</summary>
    internal List<Pin> ReadPins(HostPort server) =>
        Guard(() => _pins.Find(Query.EQ("key", server.ToString())).Select(d => BsonMapping.ToPin(d, FilePath)).OrderBy(p => p.Id).ToList());
}
