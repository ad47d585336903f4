using System.Security.Cryptography;
using System.Text.Json;
using Apps.TrustStore.Certificates;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.TrustStore.Tests;

/// <summary>Runs the real `trust` executable against a temporary data directory.</summary>
public sealed class TrustCommandTests : IDisposable
{
    private readonly TestCertificates.TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ChildProcess.Result Trust(params string[] args) => ChildProcess.Trust(_dir.Path, null, args);

    private string WritePem(ECDsa key, string name = "server.example")
    {
        string path = Path.Combine(_dir.Path, name + ".pem");
        File.WriteAllText(path, PemCertificates.Format([TestCertificates.SelfSigned(key, name)]));
        return path;
    }

    private static string Fp(ECDsa key) => SpkiFingerprint.FromDigest(TestCertificates.SpkiSha256(key)).ToString();

    /// <summary>Simulates the chat client: first use of one key, then a rejected offer of another.</summary>
    private void ConnectTwiceWithDifferentKeys(ECDsa first, ECDsa second, string host = "chat.example.org", int port = 5222)
    {
        using PinStore store = PinStore.Open(_dir.Db);
        var server = HostPort.Create(host, port);
        DateTimeOffset t = TestCertificates.Now;
        Assert.IsType<Accepted>(store.Check(new TrustRequest("xmpp-client", server, [TestCertificates.SelfSigned(first)], CaVerdict.Untrusted("self-signed"), t)));
        Assert.IsType<Rejected>(store.Check(new TrustRequest("xmpp-client", server, [TestCertificates.SelfSigned(second)], CaVerdict.Untrusted("self-signed"), t.AddDays(1))));
    }

    [Fact]
    public void Help_lists_every_command_and_the_exit_codes()
    {
        var r = Trust("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (string c in new[] { "list", "show", "pin", "forget", "accept-change", "policy", "export", "import", "--data-dir", "--json", "--hex", "Exit status" })
            Assert.Contains(c, r.Stdout);
        var pin = Trust("pin", "--help");
        Assert.Equal(0, pin.ExitCode);
        Assert.Contains("--fingerprint", pin.Stdout);
        Assert.Contains("--cert", pin.Stdout);
    }

    [Fact]
    public void List_of_an_empty_store_says_so()
    {
        var r = Trust("list");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("no pins", r.Stdout);
        Assert.True(File.Exists(_dir.Db));
    }

    [Fact]
    public void Pin_by_certificate_then_list_and_show()
    {
        using var key = TestCertificates.NewKey();
        var pin = Trust("pin", "nas.lan", "--cert", WritePem(key, "nas.lan"), "--note", "the NAS");
        Assert.Equal(0, pin.ExitCode);
        Assert.Contains(Fp(key), pin.Stdout);
        Assert.Contains("nas.lan:443", pin.Stdout);

        var list = Trust("list");
        Assert.Equal(0, list.ExitCode);
        string[] lines = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("HOST", lines[0]);
        Assert.Matches(@"^nas\.lan\s+443\s+https\s+tofu\s+" + System.Text.RegularExpressions.Regex.Escape(Fp(key)), lines[1]);

        var show = Trust("show", "nas.lan:443");
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("CN=nas.lan", show.Stdout);
        Assert.Contains("DNS:nas.lan", show.Stdout);
        Assert.Contains("the NAS", show.Stdout);
        Assert.Contains("ManualPin", show.Stdout);
    }

    [Fact]
    public void Hex_shows_colon_separated_fingerprints()
    {
        using var key = TestCertificates.NewKey();
        Trust("pin", "nas.lan", "--fingerprint", Fp(key));
        var r = Trust("list", "--hex");
        Assert.Contains(SpkiFingerprint.FromDigest(TestCertificates.SpkiSha256(key)).ToHex(), r.Stdout);
    }

    [Fact]
    public void Json_output_parses_and_carries_the_pins()
    {
        using var key = TestCertificates.NewKey();
        Trust("pin", "nas.lan:8443", "--fingerprint", Fp(key), "--service", "https");
        var r = Trust("list", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        JsonElement pin = Assert.Single(doc.RootElement.GetProperty("pins").EnumerateArray());
        Assert.Equal("nas.lan", pin.GetProperty("host").GetString());
        Assert.Equal(8443, pin.GetProperty("port").GetInt32());
        Assert.Equal(Fp(key), pin.GetProperty("fingerprint").GetString());
        Assert.Equal("tofu", pin.GetProperty("policy").GetString());

        using var show = JsonDocument.Parse(Trust("show", "nas.lan", "--json").Stdout);
        Assert.Equal("ManualPin", show.RootElement.GetProperty("history")[0].GetProperty("kind").GetString());
    }

    [Fact]
    public void Unknown_host_exits_3_with_one_line()
    {
        var r = Trust("show", "nobody.example");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("nobody.example", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Equal(3, Trust("forget", "nobody.example").ExitCode);
    }

    [Theory]
    [InlineData("SHA256:short")]
    [InlineData("not-a-fingerprint")]
    [InlineData("00:11")]
    public void Malformed_fingerprint_exits_4(string fp)
    {
        var r = Trust("pin", "nas.lan", "--fingerprint", fp);
        Assert.Equal(4, r.ExitCode);
        Assert.Contains("fingerprint", r.Stderr);
        Assert.False(File.Exists(_dir.Db) && Trust("list").Stdout.Contains("nas.lan"));
    }

    [Fact]
    public void Unreadable_pem_exits_4_naming_the_file()
    {
        string bad = Path.Combine(_dir.Path, "bad.pem");
        File.WriteAllText(bad, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
        var r = Trust("pin", "nas.lan", "--cert", bad);
        Assert.Equal(4, r.ExitCode);
        Assert.Contains(bad, r.Stderr);
        var missing = Trust("pin", "nas.lan", "--cert", Path.Combine(_dir.Path, "missing.pem"));
        Assert.Equal(4, missing.ExitCode);
        Assert.Contains("missing.pem", missing.Stderr);
    }

    [Fact]
    public void Certificate_and_fingerprint_that_disagree_exit_4()
    {
        using var key = TestCertificates.NewKey();
        using var other = TestCertificates.NewKey();
        var r = Trust("pin", "nas.lan", "--cert", WritePem(key), "--fingerprint", Fp(other));
        Assert.Equal(4, r.ExitCode);
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        Assert.Equal(2, Trust("frobnicate").ExitCode);
        Assert.Equal(2, Trust("pin", "nas.lan").ExitCode);
        Assert.Equal(2, Trust("pin", "nas.lan", "--service", "custom", "--fingerprint", new string('0', 64)).ExitCode);
        Assert.Equal(2, Trust("policy", "nas.lan", "sometimes").ExitCode);
        Assert.Equal(2, Trust("export", "--format", "xml").ExitCode);
    }

    [Fact]
    public void Corrupt_database_exits_5_naming_the_file_and_leaves_it()
    {
        byte[] junk = new byte[10000];
        new Random(7).NextBytes(junk);
        File.WriteAllBytes(_dir.Db, junk);
        var r = Trust("list");
        Assert.Equal(5, r.ExitCode);
        Assert.Contains(_dir.Db, r.Stderr);
        Assert.Contains("mv ", r.Stderr);
        Assert.Equal(junk, File.ReadAllBytes(_dir.Db));
    }

    [Fact]
    public void Data_dir_option_wins_over_the_environment()
    {
        using var other = new TestCertificates.TempDir();
        using var key = TestCertificates.NewKey();
        Assert.Equal(0, Trust("--data-dir", other.Path, "pin", "nas.lan", "-f", Fp(key)).ExitCode);
        Assert.True(File.Exists(Path.Combine(other.Path, "trust.db")));
        Assert.Contains("no pins", Trust("list").Stdout);
    }

    [Fact]
    public void Rejected_change_then_accept_change_with_yes()
    {
        using var oldKey = TestCertificates.NewKey();
        using var newKey = TestCertificates.NewKey();
        ConnectTwiceWithDifferentKeys(oldKey, newKey);

        var show = Trust("show", "chat.example.org");
        Assert.Contains("REJECTED new key " + Fp(newKey), show.Stdout);
        Assert.Contains("trust accept-change chat.example.org:5222", show.Stdout);

        var r = Trust("accept-change", "chat.example.org", "--yes");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains(Fp(oldKey), r.Stdout);
        Assert.Contains(Fp(newKey), r.Stdout);

        using PinStore store = PinStore.Open(_dir.Db);
        Assert.Equal(Fp(newKey), Assert.Single(store.PinsFor(HostPort.Create("chat.example.org", 5222))).Spki.ToString());
        Assert.Equal(3, Trust("accept-change", "chat.example.org", "--yes").ExitCode);
    }

    [Fact]
    public void Accept_change_asks_and_a_no_changes_nothing()
    {
        using var oldKey = TestCertificates.NewKey();
        using var newKey = TestCertificates.NewKey();
        ConnectTwiceWithDifferentKeys(oldKey, newKey);
        var no = ChildProcess.Trust(_dir.Path, "n\n", "accept-change", "chat.example.org:5222");
        Assert.Equal(6, no.ExitCode);
        Assert.Contains("[y/N]", no.Stdout);
        Assert.Contains(Fp(oldKey), Trust("list").Stdout);

        var yes = ChildProcess.Trust(_dir.Path, "y\n", "accept-change", "chat.example.org:5222");
        Assert.Equal(0, yes.ExitCode);
        Assert.Contains(Fp(newKey), Trust("list").Stdout);
    }

    [Fact]
    public void A_running_process_sees_pins_that_trust_adds_and_forgets()
    {
        using var key = TestCertificates.NewKey();
        var server = HostPort.Create("nas.lan", 443);
        using PinStore store = PinStore.Open(_dir.Db);
        Assert.Empty(store.PinsFor(server));
        Assert.Equal(0, Trust("pin", "nas.lan", "-f", Fp(key)).ExitCode);
        Assert.Equal(Fp(key), Assert.Single(store.PinsFor(server)).Spki.ToString());
        Assert.Equal(0, Trust("forget", "nas.lan").ExitCode);
        Assert.Empty(store.PinsFor(server));
    }

    [Fact]
    public void Forget_removes_pins_and_keeps_history()
    {
        using var key = TestCertificates.NewKey();
        Trust("pin", "nas.lan", "-f", Fp(key));
        var r = Trust("forget", "nas.lan");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("no pins", Trust("list").Stdout);
        Assert.Contains("Forgotten", Trust("show", "nas.lan").Stdout);
    }

    [Fact]
    public void Policy_set_show_and_clear()
    {
        Assert.Equal(0, Trust("policy", "nas.lan", "pin").ExitCode);
        Assert.Equal(0, Trust("policy", "xmpp-client", "ca").ExitCode);
        Assert.Contains("host nas.lan: pin", Trust("policy", "nas.lan").Stdout);
        string all = Trust("policy").Stdout;
        Assert.Matches(@"service\s+xmpp-client\s+ca", all);
        Assert.Matches(@"default\s+\*\s+tofu", all);
        Assert.Equal(0, Trust("policy", "nas.lan", "default").ExitCode);
        Assert.Contains("not set", Trust("policy", "nas.lan").Stdout);
        using PinStore store = PinStore.Open(_dir.Db);
        Assert.Equal(TrustPolicy.Ca, store.PolicyFor("xmpp-client", "any.example"));
    }

    [Theory]
    [InlineData("json")]
    [InlineData("text")]
    public void Export_then_import_into_an_empty_store_round_trips(string format)
    {
        using var k1 = TestCertificates.NewKey();
        using var k2 = TestCertificates.NewKey();
        Trust("pin", "nas.lan", "--cert", WritePem(k1), "--note", "rack 2");
        Trust("pin", "[::1]:8443", "-f", Fp(k2));
        Trust("policy", "nas.lan", "pin");
        string file = Path.Combine(_dir.Path, "export." + format);
        Assert.Equal(0, Trust("export", "--format", format, "--output", file).ExitCode);

        using var target = new TestCertificates.TempDir();
        var imported = ChildProcess.Trust(target.Path, null, "import", file);
        Assert.Equal(0, imported.ExitCode);
        Assert.Contains("imported 2 pin(s)", imported.Stdout);
        using PinStore store = PinStore.Open(target.Db);
        Assert.Equal(Fp(k1), Assert.Single(store.PinsFor(HostPort.Create("nas.lan", 443))).Spki.ToString());
        Assert.Equal("rack 2", store.PinsFor(HostPort.Create("nas.lan", 443))[0].Note);
        Assert.Equal(Fp(k2), Assert.Single(store.PinsFor(HostPort.Create("::1", 8443))).Spki.ToString());
        Assert.Equal(TrustPolicy.Pin, store.PolicyFor("https", "nas.lan"));
        if (format == "json") Assert.NotNull(store.PinsFor(HostPort.Create("nas.lan", 443))[0].Certificate);

        var again = ChildProcess.Trust(target.Path, null, "import", file);
        Assert.Contains("imported 0 pin(s) (2 already present)", again.Stdout);
    }

    [Theory]
    [InlineData("{\"format\":\"something-else\"}")]
    [InlineData("{ not json")]
    [InlineData("nas.lan:443 https SHA256:bad\n")]
    [InlineData("nas.lan https SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n")]
    public void Malformed_import_exits_4_and_imports_nothing(string content)
    {
        string file = Path.Combine(_dir.Path, "bad.txt");
        // Text cases start with a good line, to show that a bad line later aborts the whole import.
        File.WriteAllText(file, content.StartsWith('{') ? content : "ok.example:443 https SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n" + content);
        var r = Trust("import", file);
        Assert.Equal(4, r.ExitCode);
        Assert.Contains("nothing was imported", r.Stderr);
        Assert.Contains("no pins", Trust("list").Stdout);
    }

    [Fact]
    public void Import_reads_stdin()
    {
        var r = ChildProcess.Trust(_dir.Path, "box.lan:443 https SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA # from stdin\n", "import", "-");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("from stdin", Trust("show", "box.lan").Stdout);
    }
}
