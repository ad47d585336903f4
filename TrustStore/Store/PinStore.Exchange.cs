using Apps.TrustStore.Certificates;
using Apps.TrustStore.Exchange;
using Apps.TrustStore.Policy;
using LiteDB;

namespace Apps.TrustStore.Store;

public sealed partial class PinStore
{
    /// <summary>Every pin and policy, read in one transaction so that the export is consistent.</summary>
    public PinExport Export() => InTransaction(write: false, () => new PinExport(AllPins(), Policies()));

    /// <summary>
    /// Adds the pins and policies of an export in one transaction: all or nothing. A pin whose
    /// server already has the same key is kept, with the imported certificate or note filling
    /// what it lacks. Returns how many pins were added and how many already existed.
    /// </summary>
    public (int Added, int Existing) Import(PinExport export, DateTimeOffset now) => InTransaction(() =>
    {
        foreach (PolicySetting p in export.Policies)
            _policies.Upsert(new BsonDocument { ["_id"] = PolicyId(p.Scope, p.Name), ["policy"] = p.Policy.Name() });
        // One pass over the stored pins, then bulk inserts: an import of 100k pins must not
        // cost 100k index queries.
        var known = new Dictionary<(HostPort, SpkiFingerprint), Pin>();
        foreach (BsonDocument doc in _pins.FindAll())
        {
            Pin stored = BsonMapping.ToPin(doc, FilePath);
            known[(stored.Server, stored.Spki)] = stored;
        }
        var newPins = new List<BsonDocument>();
        var newEvents = new List<BsonDocument>();
        int existing = 0;
        foreach (Pin pin in export.Pins)
        {
            if (pin.Note is { Length: > Pin.MaxNoteLength })
                throw new TrustStoreException(TrustStoreError.InvalidInput, $"the note of {pin.Server} is longer than {Pin.MaxNoteLength} characters");
            if (known.TryGetValue((pin.Server, pin.Spki), out Pin? same))
            {
                existing++;
                if (same.Id != 0 && ((same.Chain.Count == 0 && pin.Chain.Count > 0) || (same.Note is null && pin.Note is not null)))
                {
                    _pins.Update(BsonMapping.ToBson(same with
                    {
                        Chain = same.Chain.Count > 0 ? same.Chain : pin.Chain,
                        Certificate = same.Certificate ?? pin.Certificate,
                        Note = same.Note ?? pin.Note,
                    }));
                }
                continue;
            }
            known[(pin.Server, pin.Spki)] = pin with { Id = 0 };
            newPins.Add(BsonMapping.ToBson(pin with { Id = 0 }));
            newEvents.Add(BsonMapping.ToBson(new HistoryEvent(0, pin.Server, "trust", now, HistoryEventKind.Imported, pin.Spki, [],
                $"imported ({pin.TrustedBy.Name()} since {pin.FirstSeen:yyyy-MM-dd})")));
        }
        _pins.InsertBulk(newPins);
        _events.InsertBulk(newEvents);
        return (newPins.Count, existing);
    });
}
