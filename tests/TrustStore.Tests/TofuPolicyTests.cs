using System.Security.Cryptography;
using Apps.TrustStore.Certificates;
using Apps.TrustStore.Policy;

namespace Apps.TrustStore.Tests;

/// <summary>Every path of the sans-IO decision, policy by policy.</summary>
public class TofuPolicyTests
{
    private static readonly HostPort Server = HostPort.Create("chat.example.org", 5222);
    private static readonly DateTimeOffset Now = TestCertificates.Now;

    private static TrustRequest Offer(ECDsa key, CaVerdict? ca = null, DateTimeOffset? now = null, DateTimeOffset? notAfter = null) =>
        new("xmpp-client", Server, [TestCertificates.SelfSigned(key, "chat.example.org", notAfter: notAfter)],
            ca ?? CaVerdict.Untrusted("unknown issuer"), now ?? Now);

    private static Pin PinOf(ECDsa key, int id, TrustedBy by = TrustedBy.FirstUse, DateTimeOffset? firstSeen = null) => new()
    {
        Id = id,
        Service = "xmpp-client",
        Server = Server,
        Spki = SpkiFingerprint.FromDigest(TestCertificates.SpkiSha256(key)),
        FirstSeen = firstSeen ?? Now.AddDays(-20),
        LastSeen = firstSeen ?? Now.AddDays(-20),
        TimesSeen = 3,
        TrustedBy = by,
    };

    // --- tofu ---

    [Fact]
    public void Tofu_pins_an_unknown_server_on_first_use_and_warns()
    {
        using var key = TestCertificates.NewKey();
        var d = Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(key), TrustPolicy.Tofu, []));
        Assert.Equal(AcceptBasis.FirstUse, d.Basis);
        Assert.True(d.IsNewPin);
        Assert.Equal(TrustedBy.FirstUse, d.Record.TrustedBy);
        Assert.Equal(TestCertificates.SpkiSha256(key), d.Record.Spki.Digest.ToArray());
        Assert.Equal(Now, d.Record.FirstSeen);
        Assert.Equal(1, d.Record.TimesSeen);
        Assert.Equal(HistoryEventKind.FirstUse, d.Event!.Kind);
        Assert.Contains(d.Warnings, w => w.Contains("without CA verification") && w.Contains(d.Record.Spki.ToString()));
    }

    [Fact]
    public void Tofu_records_a_ca_verified_unknown_server_as_ca_verified()
    {
        using var key = TestCertificates.NewKey();
        var d = Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(key, CaVerdict.Trusted), TrustPolicy.Tofu, []));
        Assert.Equal(AcceptBasis.CaVerified, d.Basis);
        Assert.Equal(TrustedBy.CaVerified, d.Record.TrustedBy);
        Assert.Empty(d.Warnings);
    }

    [Fact]
    public void Tofu_accepts_the_pinned_key_and_counts_the_sighting()
    {
        using var key = TestCertificates.NewKey();
        Pin pin = PinOf(key, 7);
        var d = Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(key), TrustPolicy.Tofu, [pin]));
        Assert.Equal(AcceptBasis.PinMatch, d.Basis);
        Assert.False(d.IsNewPin);
        Assert.Equal(7, d.Record.Id);
        Assert.Equal(4, d.Record.TimesSeen);
        Assert.Equal(Now, d.Record.LastSeen);
        Assert.Equal(pin.FirstSeen, d.Record.FirstSeen);
        Assert.Null(d.Event);
        Assert.Empty(d.Warnings);
    }

    [Fact]
    public void Tofu_rejects_a_changed_key_naming_both_fingerprints_first_seen_and_the_command()
    {
        using var oldKey = TestCertificates.NewKey();
        using var newKey = TestCertificates.NewKey();
        Pin pin = PinOf(oldKey, 1, firstSeen: new DateTimeOffset(2026, 11, 2, 8, 0, 0, TimeSpan.Zero));
        TrustRequest offer = Offer(newKey);
        var d = Assert.IsType<Rejected>(TofuPolicy.Decide(offer, TrustPolicy.Tofu, [pin]));
        Assert.Equal(RejectReason.KeyChanged, d.Reason);
        var offered = SpkiFingerprint.FromDigest(TestCertificates.SpkiSha256(newKey));
        Assert.Contains(pin.Spki.ToString(), d.Message);
        Assert.Contains(offered.ToString(), d.Message);
        Assert.Contains("2026-11-02", d.Message);
        Assert.Contains("trust accept-change chat.example.org:5222", d.Message);
        Assert.DoesNotContain("\n", d.Message);
        Assert.Equal(HistoryEventKind.KeyRejected, d.Event.Kind);
        Assert.Equal(offered, d.Event.Spki);
        Assert.Equal(offer.OfferedChain, d.Event.Chain);
    }

    [Fact]
    public void Tofu_rejects_a_changed_key_even_when_ca_verified()
    {
        using var oldKey = TestCertificates.NewKey();
        using var newKey = TestCertificates.NewKey();
        var d = Assert.IsType<Rejected>(TofuPolicy.Decide(Offer(newKey, CaVerdict.Trusted), TrustPolicy.Tofu, [PinOf(oldKey, 1)]));
        Assert.Equal(RejectReason.KeyChanged, d.Reason);
    }

    [Fact]
    public void Rotation_with_two_pins_accepts_either_key_and_rejects_a_third()
    {
        using var k1 = TestCertificates.NewKey();
        using var k2 = TestCertificates.NewKey();
        using var k3 = TestCertificates.NewKey();
        Pin[] pins = [PinOf(k1, 1), PinOf(k2, 2, TrustedBy.ManualPin)];
        Assert.Equal(1, Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(k1), TrustPolicy.Tofu, pins)).Record.Id);
        Assert.Equal(2, Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(k2), TrustPolicy.Tofu, pins)).Record.Id);
        var r = Assert.IsType<Rejected>(TofuPolicy.Decide(Offer(k3), TrustPolicy.Tofu, pins));
        Assert.Contains("1 other pin", r.Message);
    }

    // --- ca ---

    [Fact]
    public void Ca_rejects_an_unverified_chain_even_if_pinned()
    {
        using var key = TestCertificates.NewKey();
        var d = Assert.IsType<Rejected>(TofuPolicy.Decide(Offer(key, CaVerdict.Untrusted("self-signed")), TrustPolicy.Ca, [PinOf(key, 1)]));
        Assert.Equal(RejectReason.NotCaVerified, d.Reason);
        Assert.Contains("self-signed", d.Message);
    }

    [Fact]
    public void Ca_accepts_a_verified_chain_and_records_it()
    {
        using var key = TestCertificates.NewKey();
        var d = Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(key, CaVerdict.Trusted), TrustPolicy.Ca, []));
        Assert.Equal(AcceptBasis.CaVerified, d.Basis);
        Assert.True(d.IsNewPin);
        Assert.Equal(HistoryEventKind.CaVerified, d.Event!.Kind);
    }

    [Fact]
    public void Ca_replaces_earlier_ca_verified_keys_but_keeps_manual_pins()
    {
        using var oldKey = TestCertificates.NewKey();
        using var manual = TestCertificates.NewKey();
        using var newKey = TestCertificates.NewKey();
        Pin[] pins = [PinOf(oldKey, 1, TrustedBy.CaVerified), PinOf(manual, 2, TrustedBy.ManualPin)];
        var d = Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(newKey, CaVerdict.Trusted), TrustPolicy.Ca, pins));
        Assert.Equal([1], d.SupersededPinIds);
        Assert.True(d.IsNewPin);
    }

    [Fact]
    public void Ca_counts_a_sighting_of_a_known_verified_key()
    {
        using var key = TestCertificates.NewKey();
        var d = Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(key, CaVerdict.Trusted), TrustPolicy.Ca, [PinOf(key, 5, TrustedBy.CaVerified)]));
        Assert.False(d.IsNewPin);
        Assert.Equal(5, d.Record.Id);
    }

    // --- pin ---

    [Fact]
    public void Pin_rejects_a_server_with_no_pin_and_says_how_to_pin()
    {
        using var key = TestCertificates.NewKey();
        var d = Assert.IsType<Rejected>(TofuPolicy.Decide(Offer(key, CaVerdict.Trusted), TrustPolicy.Pin, []));
        Assert.Equal(RejectReason.NotPinned, d.Reason);
        Assert.Contains("trust pin chat.example.org:5222 --fingerprint SHA256:", d.Message);
    }

    [Fact]
    public void Pin_accepts_a_pinned_self_signed_key()
    {
        using var key = TestCertificates.NewKey();
        var d = Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(key), TrustPolicy.Pin, [PinOf(key, 3, TrustedBy.ManualPin)]));
        Assert.Equal(AcceptBasis.PinMatch, d.Basis);
    }

    [Fact]
    public void Pin_rejects_another_key_as_a_change()
    {
        using var key = TestCertificates.NewKey();
        using var other = TestCertificates.NewKey();
        var d = Assert.IsType<Rejected>(TofuPolicy.Decide(Offer(other), TrustPolicy.Pin, [PinOf(key, 3, TrustedBy.ManualPin)]));
        Assert.Equal(RejectReason.KeyChanged, d.Reason);
    }

    // --- expiry and bad input ---

    [Fact]
    public void Pinned_certificate_close_to_expiry_is_reported()
    {
        using var key = TestCertificates.NewKey();
        var d = Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(key, notAfter: Now.AddDays(10)), TrustPolicy.Tofu, [PinOf(key, 1)]));
        string w = Assert.Single(d.Warnings);
        Assert.Contains("expires on " + Now.AddDays(10).ToString("yyyy-MM-dd"), w);
        Assert.Contains("in 10 days", w);
    }

    [Fact]
    public void Expiry_threshold_is_configurable()
    {
        using var key = TestCertificates.NewKey();
        var d = Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(key, notAfter: Now.AddDays(10)), TrustPolicy.Tofu, [PinOf(key, 1)],
            new TofuOptions(TimeSpan.FromDays(5))));
        Assert.Empty(d.Warnings);
    }

    [Fact]
    public void Expired_pinned_certificate_is_accepted_with_a_warning()
    {
        using var key = TestCertificates.NewKey();
        var d = Assert.IsType<Accepted>(TofuPolicy.Decide(Offer(key, notAfter: Now.AddDays(-1)), TrustPolicy.Pin, [PinOf(key, 1)]));
        Assert.Contains(d.Warnings, w => w.Contains("expired on"));
    }

    [Fact]
    public void Empty_or_malformed_chain_is_rejected_as_the_servers_fault()
    {
        var empty = new TrustRequest("https", Server, [], CaVerdict.Trusted, Now);
        var garbage = new TrustRequest("https", Server, [[0x30, 0x03, 0x02, 0x01]], CaVerdict.Trusted, Now);
        var tooLong = new TrustRequest("https", Server, Enumerable.Repeat(new byte[] { 0x30 }, 11).ToArray(), CaVerdict.Trusted, Now);
        foreach (TrustRequest r in new[] { empty, garbage, tooLong })
        {
            var d = Assert.IsType<Rejected>(TofuPolicy.Decide(r, TrustPolicy.Tofu, []));
            Assert.Equal(RejectReason.MalformedChain, d.Reason);
            Assert.Contains("server", d.Message);
        }
    }
}
