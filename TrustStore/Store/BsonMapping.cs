using Apps.TrustStore.Certificates;
using Apps.TrustStore.Policy;
using LiteDB;

namespace Apps.TrustStore.Store;

/// <summary>
/// Pins and events to and from BSON, written by hand so that the stored shape is the schema
/// (see SchemaMigrations) and not whatever a reflection mapper infers. Times are stored as
/// UTC ticks so that they round-trip exactly.
/// </summary>
internal static class BsonMapping
{
    public static BsonDocument ToBson(Pin pin)
    {
        var doc = new BsonDocument
        {
            ["key"] = pin.Server.ToString(),
            ["host"] = pin.Server.Host,
            ["port"] = pin.Server.Port,
            ["service"] = pin.Service,
            ["spki"] = pin.Spki.Digest.ToArray(),
            ["chain"] = Chain(pin.Chain),
            ["firstSeen"] = pin.FirstSeen.UtcTicks,
            ["lastSeen"] = pin.LastSeen.UtcTicks,
            ["timesSeen"] = pin.TimesSeen,
            ["trustedBy"] = pin.TrustedBy.Name(),
            ["note"] = pin.Note is null ? BsonValue.Null : new BsonValue(pin.Note),
        };
        if (pin.Id != 0) doc["_id"] = pin.Id;
        if (pin.Certificate is { } c)
        {
            doc["subject"] = c.Subject;
            doc["issuer"] = c.Issuer;
            doc["serial"] = c.SerialNumber;
            doc["notBefore"] = c.NotBefore.UtcTicks;
            doc["notAfter"] = c.NotAfter.UtcTicks;
            doc["sans"] = new BsonArray(c.SubjectAltNames.Select(s => new BsonValue(s)));
        }
        return doc;
    }

    public static Pin ToPin(BsonDocument doc, string path)
    {
        try
        {
            var spki = SpkiFingerprint.FromDigest(doc["spki"].AsBinary);
            CertificateInfo? cert = null;
            if (doc.TryGetValue("subject", out BsonValue subject) && subject.IsString)
            {
                cert = new CertificateInfo(
                    spki,
                    subject.AsString,
                    doc["issuer"].AsString,
                    doc["serial"].AsString,
                    Time(doc["notBefore"]),
                    Time(doc["notAfter"]),
                    doc["sans"].AsArray.Select(v => v.AsString).ToArray());
            }
            if (!TrustPolicyNames.TryParse(doc["trustedBy"].AsString, out TrustedBy by))
                throw new FormatException($"unknown trustedBy '{doc["trustedBy"].AsString}'");
            return new Pin
            {
                Id = doc["_id"].AsInt32,
                Service = doc["service"].AsString,
                Server = new HostPort(doc["host"].AsString, doc["port"].AsInt32),
                Spki = spki,
                Chain = ReadChain(doc["chain"]),
                Certificate = cert,
                FirstSeen = Time(doc["firstSeen"]),
                LastSeen = Time(doc["lastSeen"]),
                TimesSeen = doc["timesSeen"].AsInt64,
                TrustedBy = by,
                Note = doc["note"].IsString ? doc["note"].AsString : null,
            };
        }
        catch (Exception e) when (e is InvalidCastException or KeyNotFoundException or ArgumentException or FormatException or NullReferenceException)
        {
            throw DatabaseFile.Corrupt(path, $"pin {doc["_id"]} is malformed: {e.Message}", e);
        }
    }

    public static BsonDocument ToBson(HistoryEvent ev)
    {
        var doc = new BsonDocument
        {
            ["key"] = ev.Server.ToString(),
            ["host"] = ev.Server.Host,
            ["port"] = ev.Server.Port,
            ["service"] = ev.Service,
            ["at"] = ev.At.UtcTicks,
            ["kind"] = ev.Kind.ToString(),
            ["spki"] = ev.Spki is { } fp ? new BsonValue(fp.Digest.ToArray()) : BsonValue.Null,
            ["chain"] = Chain(ev.Chain),
            ["detail"] = ev.Detail,
        };
        if (ev.Id != 0) doc["_id"] = ev.Id;
        return doc;
    }

    public static HistoryEvent ToEvent(BsonDocument doc, string path)
    {
        try
        {
            if (!Enum.TryParse(doc["kind"].AsString, out HistoryEventKind kind))
                throw new FormatException($"unknown event kind '{doc["kind"].AsString}'");
            return new HistoryEvent(
                doc["_id"].AsInt64,
                new HostPort(doc["host"].AsString, doc["port"].AsInt32),
                doc["service"].AsString,
                Time(doc["at"]),
                kind,
                doc["spki"].IsBinary ? SpkiFingerprint.FromDigest(doc["spki"].AsBinary) : null,
                ReadChain(doc["chain"]),
                doc["detail"].AsString);
        }
        catch (Exception e) when (e is InvalidCastException or KeyNotFoundException or ArgumentException or FormatException or NullReferenceException)
        {
            throw DatabaseFile.Corrupt(path, $"history event {doc["_id"]} is malformed: {e.Message}", e);
        }
    }

    private static BsonArray Chain(IReadOnlyList<byte[]> chain) => new(chain.Select(der => new BsonValue(der)));

    private static byte[][] ReadChain(BsonValue value) => value.AsArray.Select(v => v.AsBinary).ToArray();

    private static DateTimeOffset Time(BsonValue ticks) => new(ticks.AsInt64, TimeSpan.Zero);
}
