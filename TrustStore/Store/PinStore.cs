using Apps.TrustStore.Certificates;
using Apps.TrustStore.Policy;
using LiteDB;

namespace Apps.TrustStore.Store;

/// <summary>
/// The pins, history and policies in one LiteDB file, opened in shared mode so that several
/// processes can use it at once; every read-modify-write runs in one LiteDB transaction,
/// which in shared mode also holds the cross-process lock. This is the I/O shell around
/// <see cref="TofuPolicy"/>.
/// </summary>
public sealed partial class PinStore : IDisposable
{
    private readonly LiteDatabase _db;
    private readonly ILiteCollection<BsonDocument> _pins;
    private readonly ILiteCollection<BsonDocument> _events;
    private readonly ILiteCollection<BsonDocument> _policies;
    private readonly StoreGeneration? _generation;

    private PinStore(LiteDatabase db, string path)
    {
        _db = db;
        FilePath = path;
        _generation = StoreGeneration.TryOpen(path);
        _pins = db.GetCollection(SchemaMigrations.Pins, BsonAutoId.Int32);
        _events = db.GetCollection(SchemaMigrations.Events, BsonAutoId.Int64);
        _policies = db.GetCollection(SchemaMigrations.Policies);
    }

    /// <summary>The database file.</summary>
    public string FilePath { get; }

    /// <summary>The policy for servers with none set for their host or service.</summary>
    public const TrustPolicy DefaultPolicy = TrustPolicy.Tofu;

    /// <summary>
    /// Opens (creating if missing) the database at <paramref name="path"/> and brings its schema
    /// up to date. Throws <see cref="TrustStoreException"/> if the file is damaged, not LiteDB,
    /// from a newer version, or inaccessible; such a file is never overwritten.
    /// </summary>
    public static PinStore Open(string path)
    {
        path = Path.GetFullPath(path);
        LiteDatabase db = DatabaseFile.Open(path);
        try
        {
            SchemaMigrations.Migrate(db, path);
            return new PinStore(db, path);
        }
        catch (Exception e) when (DatabaseFile.IsDamage(e))
        {
            db.Dispose();
            throw DatabaseFile.Corrupt(path, e.Message, e);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>The schema version of the open file.</summary>
    public int SchemaVersion => Guard(() => _db.UserVersion);

    /// <summary>
    /// Asks <see cref="TofuPolicy"/> about <paramref name="request"/> with this server's pins and
    /// policy, and records the outcome, all in one transaction.
    /// </summary>
    public TrustDecision Check(TrustRequest request, TofuOptions? options = null)
    {
        using System.Diagnostics.Activity? activity = TrustStoreTelemetry.Source.StartActivity("trust.check");
        activity?.SetTag("server.address", request.Server.Host);
        activity?.SetTag("server.port", request.Server.Port);
        activity?.SetTag("trust.service", request.Service);
        TrustDecision result = InTransaction(() =>
        {
            TrustPolicy policy = PolicyFor(request.Service, request.Server.Host);
            TrustDecision decision = TofuPolicy.Decide(request, policy, ReadPins(request.Server), options);
            Record(decision);
            return decision;
        });
        TrustStoreTelemetry.Record(result, activity);
        return result;
    }

    /// <summary>Stores what a decision says to record.</summary>
    public void Apply(TrustDecision decision) => InTransaction(() => Record(decision));

    private int Record(TrustDecision decision)
    {
        switch (decision)
        {
            case Accepted a:
                foreach (int id in a.SupersededPinIds) _pins.Delete(id);
                if (a.IsNewPin) _pins.Insert(BsonMapping.ToBson(a.Record));
                else _pins.Update(BsonMapping.ToBson(a.Record));
                if (a.Event is not null) _events.Insert(BsonMapping.ToBson(a.Event));
                break;
            case Rejected r:
                _events.Insert(BsonMapping.ToBson(r.Event));
                break;
        }
        return 0;
    }

    /// <summary>The pins of a host on every port (or one port when given), oldest first.</summary>
    public IReadOnlyList<Pin> PinsFor(string host, int? port) => port is { } p
        ? PinsFor(HostPort.Create(host, p))
        : ReadHostPins(host);

    private IReadOnlyList<Pin> ReadHostPins(string host, int? port = null) => port is { } p
        ? ReadPins(HostPort.Create(host, p))
        : Guard(() => _pins.Find(Query.EQ("host", HostPort.NormalizeHost(host))).Select(d => BsonMapping.ToPin(d, FilePath)).OrderBy(x => x.Id).ToList());

    /// <summary>Every pin, ordered by host, port and id.</summary>
    public IReadOnlyList<Pin> AllPins() =>
        Guard(() => _pins.FindAll().Select(d => BsonMapping.ToPin(d, FilePath))
            .OrderBy(p => p.Server.Host, StringComparer.Ordinal).ThenBy(p => p.Server.Port).ThenBy(p => p.Id).ToList());

    /// <summary>The history of a host (every port, or one), oldest first.</summary>
    public IReadOnlyList<HistoryEvent> History(string host, int? port)
    {
        BsonExpression query = port is { } p
            ? Query.EQ("key", HostPort.Create(host, p).ToString())
            : Query.EQ("host", HostPort.NormalizeHost(host));
        return Guard(() => _events.Find(query).Select(d => BsonMapping.ToEvent(d, FilePath)).OrderBy(e => e.Id).ToList());
    }

    /// <summary>
    /// Pins a key by hand (policy pin, or a planned rotation). If the server already has this key,
    /// the pin is updated (chain, note) rather than duplicated.
    /// </summary>
    public Pin AddPin(Pin pin, HistoryEventKind kind = HistoryEventKind.ManualPin, string? detail = null) => InTransaction(() =>
    {
        if (pin.Note is { Length: > Pin.MaxNoteLength })
            throw new TrustStoreException(TrustStoreError.InvalidInput, $"the note is longer than {Pin.MaxNoteLength} characters");
        Pin? existing = ReadPins(pin.Server).FirstOrDefault(p => p.Spki == pin.Spki);
        Pin stored;
        if (existing is not null)
        {
            stored = existing with
            {
                Chain = pin.Chain.Count > 0 ? pin.Chain : existing.Chain,
                Certificate = pin.Certificate ?? existing.Certificate,
                Note = pin.Note ?? existing.Note,
            };
            _pins.Update(BsonMapping.ToBson(stored));
        }
        else
        {
            BsonValue id = _pins.Insert(BsonMapping.ToBson(pin with { Id = 0 }));
            stored = pin with { Id = id.AsInt32 };
        }
        _events.Insert(BsonMapping.ToBson(new HistoryEvent(0, pin.Server, pin.Service, pin.FirstSeen, kind, pin.Spki, pin.Chain,
            detail ?? (existing is null ? $"pinned by hand ({pin.TrustedBy.Name()})" : "pin updated by hand"))));
        return stored;
    });

    /// <summary>Removes every pin of a host (all ports, or one) and records it. Returns how many were removed.</summary>
    public int Forget(string host, int? port, DateTimeOffset now) => InTransaction(() =>
    {
        IReadOnlyList<Pin> pins = ReadHostPins(host, port);
        if (pins.Count == 0)
            throw new TrustStoreException(TrustStoreError.NotFound, NoPinsMessage(host, port));
        foreach (Pin pin in pins)
        {
            _pins.Delete(pin.Id);
            _events.Insert(BsonMapping.ToBson(new HistoryEvent(0, pin.Server, "trust", now, HistoryEventKind.Forgotten, pin.Spki, [],
                $"forgotten (was trusted by {pin.TrustedBy.Name()} since {pin.FirstSeen:yyyy-MM-dd})")));
        }
        return pins.Count;
    });

    /// <summary>
    /// The latest rejected offer of a key for <paramref name="server"/> that no pin matches yet, or
    /// null; this is what <see cref="AcceptChange"/> would pin.
    /// </summary>
    public HistoryEvent? PendingChange(HostPort server) => Guard(() =>
    {
        IReadOnlyList<Pin> pins = ReadPins(server);
        HistoryEvent? latest = _events.Find(Query.EQ("key", server.ToString()))
            .Select(d => BsonMapping.ToEvent(d, FilePath))
            .Where(e => e.Kind == HistoryEventKind.KeyRejected && e.Spki is not null && e.Chain.Count > 0)
            .OrderByDescending(e => e.Id)
            .FirstOrDefault();
        if (latest is null || pins.Any(p => p.Spki == latest.Spki)) return null;
        return latest;
    });

    /// <summary>
    /// Replaces the server's pins by the key of the rejected offer <paramref name="offer"/>
    /// (from <see cref="PendingChange"/>), recording the change. Fails if another process
    /// changed the server's pins meanwhile.
    /// </summary>
    public Pin AcceptChange(HistoryEvent offer, DateTimeOffset now) => InTransaction(() =>
    {
        HistoryEvent? pending = PendingChange(offer.Server);
        if (pending is null || pending.Id != offer.Id)
            throw new TrustStoreException(TrustStoreError.NotFound,
                $"the pending change for {offer.Server} is gone or was replaced by a newer one; run 'trust show {offer.Server}' and try again");
        IReadOnlyList<Pin> old = ReadPins(offer.Server);
        foreach (Pin p in old) _pins.Delete(p.Id);
        CertificateInfo leaf = CertificateInfo.Parse(offer.Chain[0]);
        var pin = new Pin
        {
            Service = offer.Service,
            Server = offer.Server,
            Spki = leaf.Spki,
            Chain = offer.Chain,
            Certificate = leaf,
            FirstSeen = now,
            LastSeen = now,
            TimesSeen = 0,
            TrustedBy = TrustedBy.AcceptedChange,
        };
        BsonValue id = _pins.Insert(BsonMapping.ToBson(pin));
        string replaced = old.Count == 0 ? "no earlier pin" : "replacing " + string.Join(", ", old.Select(p => p.Spki.ToString()));
        _events.Insert(BsonMapping.ToBson(new HistoryEvent(0, offer.Server, "trust", now, HistoryEventKind.ChangeAccepted, leaf.Spki, offer.Chain,
            $"change accepted by hand, {replaced}")));
        return pin with { Id = id.AsInt32 };
    });

    /// <inheritdoc />
    public void Dispose()
    {
        _db.Dispose();
        _generation?.Dispose();
    }

    internal static string NoPinsMessage(string host, int? port)
    {
        string what = port is { } p ? HostPort.Create(host, p).ToString() : HostPort.NormalizeHost(host);
        return $"no pins for {what}; run 'trust list' to see the pinned servers";
    }

    private T InTransaction<T>(Func<T> body) => InTransaction(write: true, body);

    private T InTransaction<T>(bool write, Func<T> body) => Guard(() =>
    {
        // LiteDB transactions are per thread; in shared mode the transaction also holds the
        // cross-process lock until Commit or Rollback. Never nest them.
        if (!_db.BeginTrans())
            throw new InvalidOperationException("a trust store transaction is already open on this thread");
        try
        {
            if (write) _generation?.Bump();
            T result = body();
            _db.Commit();
            return result;
        }
        catch
        {
            _db.Rollback();
            throw;
        }
    });

    private T Guard<T>(Func<T> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (DatabaseFile.IsDamage(e))
        {
            throw DatabaseFile.Corrupt(FilePath, e.Message, e);
        }
    }
}
