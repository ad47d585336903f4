using LiteDB;

namespace Apps.TrustStore.Store;

/// <summary>
/// The schema version lives in LiteDB's user_version pragma. Each migration brings the file
/// from version N-1 to N and is idempotent, so two processes opening a new file at the same
/// moment both succeed. Add migrations at the end; never edit a shipped one.
/// </summary>
internal static class SchemaMigrations
{
    /// <summary>The collection of pins.</summary>
    public const string Pins = "pins";
    /// <summary>The collection of history events.</summary>
    public const string Events = "events";
    /// <summary>The collection of per-host and per-service policies.</summary>
    public const string Policies = "policies";

    private static readonly Action<LiteDatabase>[] Steps =
    [
        // 1: pins and events are looked up by "host:port" and listed by host.
        db =>
        {
            db.GetCollection(Pins, BsonAutoId.Int32).EnsureIndex("key", "$.key");
            db.GetCollection(Pins, BsonAutoId.Int32).EnsureIndex("host", "$.host");
            db.GetCollection(Events, BsonAutoId.Int64).EnsureIndex("key", "$.key");
            db.GetCollection(Events, BsonAutoId.Int64).EnsureIndex("host", "$.host");
        },
    ];

    /// <summary>The version this code writes.</summary>
    public static int CurrentVersion => Steps.Length;

    /// <summary>Brings <paramref name="db"/> to <see cref="CurrentVersion"/>; refuses a newer file.</summary>
    public static void Migrate(LiteDatabase db, string path)
    {
        int version = db.UserVersion;
        if (version > CurrentVersion)
            throw new TrustStoreException(TrustStoreError.DatabaseTooNew,
                $"trust database {path} has schema version {version} but this program knows up to {CurrentVersion}; " +
                "use the newer program that wrote it (the file was left unchanged)");
        for (int next = version + 1; next <= CurrentVersion; next++)
        {
            Steps[next - 1](db);
            db.UserVersion = next;
        }
    }
}
