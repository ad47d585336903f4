using System.Security.Cryptography;
using Apps.TrustStore.Certificates;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.TrustStore.Tests;

public sealed class PinStoreTests : IDisposable
{
    private static readonly HostPort Server = HostPort.Create("chat.example.org", 5222);
    private readonly TestCertificates.TempDir _dir = new();
    private readonly PinStore _store;
    private DateTimeOffset _now = TestCertificates.Now;

    public PinStoreTests() => _store = PinStore.Open(_dir.Db);

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    private TrustDecision Connect(ECDsa key, CaVerdict? ca = null, string service = "xmpp-client", HostPort? server = null)
    {
        _now = _now.AddHours(1);
        return _store.Check(new TrustRequest(service, server ?? Server, [TestCertificates.SelfSigned(key)], ca ?? CaVerdict.Untrusted("self-signed"), _now));
    }

    [Fact]
    public void New_file_gets_the_current_schema_version()
    {
        Assert.Equal(1, _store.SchemaVersion);
        Assert.True(File.Exists(_dir.Db));
    }

    [Fact]
    public void First_use_is_stored_and_later_sightings_counted()
    {
        using var key = TestCertificates.NewKey();
        Assert.IsType<Accepted>(Connect(key));
        Assert.IsType<Accepted>(Connect(key));
        Pin pin = Assert.Single(_store.PinsFor(Server));
        Assert.Equal(2, pin.TimesSeen);
        Assert.Equal(TrustedBy.FirstUse, pin.TrustedBy);
        Assert.Equal(TestCertificates.Now.AddHours(1), pin.FirstSeen);
        Assert.Equal(TestCertificates.Now.AddHours(2), pin.LastSeen);
        Assert.Contains("CN=server.example", pin.Certificate!.Subject);
        Assert.Single(pin.Chain);
        Assert.Equal(HistoryEventKind.FirstUse, Assert.Single(_store.History(Server.Host, null)).Kind);
    }

    [Fact]
    public void Pins_survive_reopening()
    {
        using var key = TestCertificates.NewKey();
        Connect(key);
        Pin before = Assert.Single(_store.PinsFor(Server));
        using PinStore again = PinStore.Open(_dir.Db);
        Pin after = Assert.Single(again.PinsFor(Server));
        Assert.Equal(before.Spki, after.Spki);
        Assert.Equal(before.FirstSeen, after.FirstSeen);
        Assert.NotNull(before.Certificate);
        Assert.NotNull(after.Certificate);
        Assert.Equal(before.Certificate, after.Certificate with { SubjectAltNames = before.Certificate.SubjectAltNames });
        Assert.Equal(before.Certificate.SubjectAltNames, after.Certificate.SubjectAltNames);
    }

    [Fact]
    public void Rejected_change_is_recorded_then_accept_change_pins_the_new_key()
    {
        using var oldKey = TestCertificates.NewKey();
        using var newKey = TestCertificates.NewKey();
        Connect(oldKey);
        var rejected = Assert.IsType<Rejected>(Connect(newKey));
        Assert.Equal(RejectReason.KeyChanged, rejected.Reason);
        Assert.Equal(SpkiFingerprint.FromDigest(TestCertificates.SpkiSha256(oldKey)), Assert.Single(_store.PinsFor(Server)).Spki);

        HistoryEvent pending = _store.PendingChange(Server)!;
        Assert.Equal(SpkiFingerprint.FromDigest(TestCertificates.SpkiSha256(newKey)), pending.Spki);
        Pin accepted = _store.AcceptChange(pending, _now.AddMinutes(1));
        Assert.Equal(TrustedBy.AcceptedChange, accepted.TrustedBy);
        Assert.Equal(pending.Spki, Assert.Single(_store.PinsFor(Server)).Spki);
        Assert.Null(_store.PendingChange(Server));

        Assert.Equal(AcceptBasis.PinMatch, Assert.IsType<Accepted>(Connect(newKey)).Basis);
        Assert.IsType<Rejected>(Connect(oldKey));
        Assert.Equal(
            [HistoryEventKind.FirstUse, HistoryEventKind.KeyRejected, HistoryEventKind.ChangeAccepted, HistoryEventKind.KeyRejected],
            _store.History(Server.Host, Server.Port).Select(e => e.Kind));
    }

    [Fact]
    public void Accept_change_of_a_stale_offer_fails()
    {
        using var oldKey = TestCertificates.NewKey();
        using var k2 = TestCertificates.NewKey();
        using var k3 = TestCertificates.NewKey();
        Connect(oldKey);
        Connect(k2);
        HistoryEvent first = _store.PendingChange(Server)!;
        Connect(k3);
        var e = Assert.Throws<TrustStoreException>(() => _store.AcceptChange(first, _now));
        Assert.Equal(TrustStoreError.NotFound, e.Error);
    }

    [Fact]
    public void Rotation_with_a_second_manual_pin_accepts_both_keys()
    {
        using var current = TestCertificates.NewKey();
        using var next = TestCertificates.NewKey();
        Connect(current);
        byte[] nextCert = TestCertificates.SelfSigned(next);
        _store.AddPin(new Pin
        {
            Service = "xmpp-client", Server = Server, Spki = CertificateInfo.Parse(nextCert).Spki,
            Chain = [nextCert], Certificate = CertificateInfo.Parse(nextCert),
            FirstSeen = _now, LastSeen = _now, TrustedBy = TrustedBy.ManualPin, Note = "rotation 2027",
        });
        Assert.Equal(2, _store.PinsFor(Server).Count);
        Assert.IsType<Accepted>(Connect(current));
        Assert.IsType<Accepted>(Connect(next));
        Assert.Equal("rotation 2027", _store.PinsFor(Server)[1].Note);
    }

    [Fact]
    public void Pinning_the_same_key_twice_updates_instead_of_duplicating()
    {
        using var key = TestCertificates.NewKey();
        var pin = new Pin
        {
            Service = "https", Server = Server, Spki = SpkiFingerprint.FromDigest(TestCertificates.SpkiSha256(key)),
            FirstSeen = _now, LastSeen = _now, TrustedBy = TrustedBy.ManualPin,
        };
        _store.AddPin(pin);
        _store.AddPin(pin with { Note = "again" });
        Assert.Equal("again", Assert.Single(_store.PinsFor(Server)).Note);
    }

    [Fact]
    public void Forget_then_first_use_again()
    {
        using var oldKey = TestCertificates.NewKey();
        using var newKey = TestCertificates.NewKey();
        Connect(oldKey);
        Assert.Equal(1, _store.Forget(Server.Host, null, _now));
        Assert.Empty(_store.PinsFor(Server));
        var d = Assert.IsType<Accepted>(Connect(newKey));
        Assert.Equal(AcceptBasis.FirstUse, d.Basis);
        Assert.Equal([HistoryEventKind.FirstUse, HistoryEventKind.Forgotten, HistoryEventKind.FirstUse],
            _store.History(Server.Host, null).Select(e => e.Kind));
    }

    [Fact]
    public void Forget_of_an_unknown_host_is_not_found()
    {
        var e = Assert.Throws<TrustStoreException>(() => _store.Forget("nobody.example", null, _now));
        Assert.Equal(TrustStoreError.NotFound, e.Error);
        Assert.Contains("nobody.example", e.Message);
    }

    [Fact]
    public void Forget_with_a_port_leaves_other_ports()
    {
        using var key = TestCertificates.NewKey();
        Connect(key);
        Connect(key, server: HostPort.Create(Server.Host, 5223));
        _store.Forget(Server.Host, 5223, _now);
        Assert.Single(_store.PinsFor(Server.Host, null));
    }

    [Fact]
    public void Host_policy_overrides_service_policy_which_overrides_the_default()
    {
        Assert.Equal(TrustPolicy.Tofu, _store.PolicyFor("https", "a.example"));
        _store.SetPolicy(PolicyScope.Service, "https", TrustPolicy.Ca);
        Assert.Equal(TrustPolicy.Ca, _store.PolicyFor("https", "a.example"));
        Assert.Equal(TrustPolicy.Tofu, _store.PolicyFor("xmpp-client", "a.example"));
        _store.SetPolicy(PolicyScope.Host, "A.Example", TrustPolicy.Pin);
        Assert.Equal(TrustPolicy.Pin, _store.PolicyFor("https", "a.example"));
        Assert.Equal(2, _store.Policies().Count);
        var table = new PolicyTable(_store.Policies());
        Assert.Equal(TrustPolicy.Pin, table.For("https", "A.EXAMPLE"));
        Assert.Equal(TrustPolicy.Ca, table.For("https", "b.example"));
        Assert.Equal(TrustPolicy.Tofu, table.For("xmpp-client", "b.example"));
        _store.SetPolicy(PolicyScope.Host, "a.example", null);
        Assert.Equal(TrustPolicy.Ca, _store.PolicyFor("https", "a.example"));
    }

    [Fact]
    public void Check_uses_the_stored_policy()
    {
        using var key = TestCertificates.NewKey();
        _store.SetPolicy(PolicyScope.Host, Server.Host, TrustPolicy.Pin);
        Assert.Equal(RejectReason.NotPinned, Assert.IsType<Rejected>(Connect(key)).Reason);
        Assert.Empty(_store.PinsFor(Server));
        Assert.NotNull(_store.PendingChange(Server));
    }

    [Fact]
    public void Lookups_see_writes_made_through_another_handle_at_once()
    {
        using var key = TestCertificates.NewKey();
        Assert.Empty(_store.PinsFor(Server));
        using (PinStore other = PinStore.Open(_dir.Db))
        {
            other.Check(new TrustRequest("xmpp-client", Server, [TestCertificates.SelfSigned(key)], CaVerdict.Trusted, _now));
            Assert.Single(_store.PinsFor(Server));
            other.Forget(Server.Host, null, _now);
        }
        Assert.Empty(_store.PinsFor(Server));
        Assert.True(File.Exists(Path.ChangeExtension(_dir.Db, ".generation")));
    }

    [Fact]
    public void Check_counts_decisions_by_policy_and_outcome()
    {
        var seen = new List<(long Value, string? Outcome)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TrustStoreTelemetry.Name) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? outcome = null;
            foreach (var tag in tags) if (tag.Key == "outcome") outcome = tag.Value as string;
            lock (seen) seen.Add((value, outcome));
        });
        listener.Start();
        using var key = TestCertificates.NewKey();
        using var other = TestCertificates.NewKey();
        var server = HostPort.Create("metrics-" + Guid.NewGuid().ToString("N")[..8] + ".example", 443);
        Connect(key, server: server);
        Connect(other, server: server);
        lock (seen)
        {
            Assert.Contains((1L, "first-use"), seen);
            Assert.Contains((1L, "key-changed"), seen);
        }
    }

    [Fact]
    public void Invalid_service_names_are_rejected()
    {
        var e = Assert.Throws<TrustStoreException>(() => _store.SetPolicy(PolicyScope.Service, "Bad Service", TrustPolicy.Ca));
        Assert.Equal(TrustStoreError.InvalidInput, e.Error);
    }
}
