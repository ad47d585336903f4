using Apps.TrustStore.Store;
using LiteDB;

namespace Apps.TrustStore.Tests;

public sealed class DatabaseFileTests : IDisposable
{
    private readonly TestCertificates.TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_file_that_is_not_litedb_is_reported_and_left_unchanged()
    {
        byte[] junk = new byte[20000];
        new Random(1).NextBytes(junk);
        File.WriteAllBytes(_dir.Db, junk);
        var e = Assert.Throws<TrustStoreException>(() => PinStore.Open(_dir.Db));
        Assert.Equal(TrustStoreError.DatabaseCorrupt, e.Error);
        Assert.Contains(_dir.Db, e.Message);
        Assert.Contains("mv ", e.Message);
        Assert.Equal(junk, File.ReadAllBytes(_dir.Db));
    }

    [Fact]
    public void A_short_text_file_is_reported_and_left_unchanged()
    {
        File.WriteAllText(_dir.Db, "hello\n");
        var e = Assert.Throws<TrustStoreException>(() => PinStore.Open(_dir.Db));
        Assert.Equal(TrustStoreError.DatabaseCorrupt, e.Error);
        Assert.Equal("hello\n", File.ReadAllText(_dir.Db));
    }

    [Fact]
    public void A_litedb_file_with_damaged_pages_is_reported()
    {
        using (PinStore.Open(_dir.Db)) { }
        byte[] bytes = File.ReadAllBytes(_dir.Db);
        // Keep the header marker, wreck the rest of the header page and everything after it.
        for (int i = 64; i < bytes.Length; i++) bytes[i] = 0xEE;
        File.WriteAllBytes(_dir.Db, bytes);
        var e = Assert.Throws<TrustStoreException>(() => { using var s = PinStore.Open(_dir.Db); s.AllPins(); });
        Assert.Equal(TrustStoreError.DatabaseCorrupt, e.Error);
        Assert.Contains(_dir.Db, e.Message);
    }

    [Fact]
    public void A_newer_schema_version_is_refused()
    {
        using (var db = new LiteDatabase($"Filename={_dir.Db};Connection=shared")) db.UserVersion = 99;
        var e = Assert.Throws<TrustStoreException>(() => PinStore.Open(_dir.Db));
        Assert.Equal(TrustStoreError.DatabaseTooNew, e.Error);
        Assert.Contains("99", e.Message);
    }

    [Fact]
    public void A_version_zero_litedb_file_is_migrated_keeping_its_data()
    {
        using (var db = new LiteDatabase($"Filename={_dir.Db};Connection=shared"))
            db.GetCollection("policies").Insert(new BsonDocument { ["_id"] = "service:https", ["policy"] = "ca" });
        using PinStore store = PinStore.Open(_dir.Db);
        Assert.Equal(1, store.SchemaVersion);
        Assert.Equal(Policy.TrustPolicy.Ca, store.PolicyFor("https", "x.example"));
    }

    [Fact]
    public void A_directory_in_place_of_the_file_is_reported()
    {
        Directory.CreateDirectory(_dir.Db);
        var e = Assert.Throws<TrustStoreException>(() => PinStore.Open(_dir.Db));
        Assert.Equal(TrustStoreError.DatabaseInaccessible, e.Error);
    }

    [Fact]
    public void Missing_directories_are_created()
    {
        string path = Path.Combine(_dir.Path, "a", "b", "trust.db");
        using (PinStore.Open(path)) { }
        Assert.True(File.Exists(path));
    }

    [Theory]
    [InlineData("/opt/x", "/env", "/xdg", "/home/u", "/opt/x")]
    [InlineData(null, "/env", "/xdg", "/home/u", "/env")]
    [InlineData(null, null, "/xdg", "/home/u", "/xdg/apps")]
    [InlineData(null, null, "relative", "/home/u", "/home/u/.local/share/apps")]
    [InlineData(null, "", "", "/home/u", "/home/u/.local/share/apps")]
    public void Data_directory_follows_option_then_env_then_xdg_then_home(string? option, string? env, string? xdg, string? home, string expected)
    {
        var vars = new Dictionary<string, string?> { ["APPS_DATA_DIR"] = env, ["XDG_DATA_HOME"] = xdg, ["HOME"] = home };
        Assert.Equal(expected, DataDirectory.Resolve(option, k => vars.GetValueOrDefault(k)));
    }

    [Fact]
    public void Data_directory_without_home_is_an_error()
    {
        var e = Assert.Throws<TrustStoreException>(() => DataDirectory.Resolve(null, _ => null));
        Assert.Contains("--data-dir", e.Message);
    }
}
