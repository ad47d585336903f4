using Apps.TrustStore.Certificates;
using Apps.TrustStore.Exchange;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.TrustStore.Tests;

public class ExchangeTests
{
    private static readonly DateTimeOffset Now = TestCertificates.Now;

    private static PinExport Sample(out byte[] der)
    {
        using var key = TestCertificates.NewKey();
        der = TestCertificates.SelfSigned(key, "nas.lan");
        CertificateInfo leaf = CertificateInfo.Parse(der);
        return new PinExport(
        [
            new Pin { Id = 4, Service = "https", Server = HostPort.Create("nas.lan", 443), Spki = leaf.Spki, Chain = [der], Certificate = leaf,
                      FirstSeen = Now.AddDays(-3), LastSeen = Now, TimesSeen = 9, TrustedBy = TrustedBy.FirstUse, Note = "rack 2" },
            new Pin { Service = "xmpp-client", Server = HostPort.Create("::1", 5222), Spki = SpkiFingerprint.FromDigest(new byte[32]),
                      FirstSeen = Now, LastSeen = Now, TrustedBy = TrustedBy.ManualPin },
        ],
        [new PolicySetting(PolicyScope.Host, "nas.lan", TrustPolicy.Pin), new PolicySetting(PolicyScope.Service, "https", TrustPolicy.Ca)]);
    }

    [Fact]
    public void Json_round_trips_pins_certificates_times_and_policies()
    {
        PinExport export = Sample(out byte[] der);
        PinExport back = PinJson.Read(PinJson.Write(export), Now.AddYears(1));
        Assert.Equal(export.Policies, back.Policies);
        Assert.Equal(2, back.Pins.Count);
        Pin p = back.Pins[0];
        Assert.Equal(export.Pins[0].Spki, p.Spki);
        Assert.Equal(der, Assert.Single(p.Chain));
        Assert.Equal(Now.AddDays(-3), p.FirstSeen);
        Assert.Equal(9, p.TimesSeen);
        Assert.Equal(TrustedBy.FirstUse, p.TrustedBy);
        Assert.Equal("rack 2", p.Note);
        Assert.Equal(HostPort.Create("::1", 5222), back.Pins[1].Server);
    }

    [Fact]
    public void Text_round_trips_fingerprints_and_policies_without_certificates()
    {
        PinExport export = Sample(out _);
        string text = KnownHostsText.Write(export);
        Assert.Contains("[::1]:5222 xmpp-client SHA256:", text);
        PinExport back = KnownHostsText.Read(text, Now);
        Assert.Equal(export.Policies, back.Policies);
        Assert.Equal(export.Pins.Select(p => (p.Server, p.Spki, p.Service, p.TrustedBy)), back.Pins.Select(p => (p.Server, p.Spki, p.Service, p.TrustedBy)));
        Assert.Equal("rack 2", back.Pins[0].Note);
        Assert.Empty(back.Pins[0].Chain);
    }

    [Fact]
    public void Json_with_a_certificate_that_does_not_match_its_fingerprint_is_refused()
    {
        PinExport export = Sample(out _);
        string json = PinJson.Write(export).Replace(export.Pins[0].Spki.ToString(), SpkiFingerprint.FromDigest(new byte[32]).ToString());
        var e = Assert.Throws<ExportFormatException>(() => PinJson.Read(json, Now));
        Assert.Contains("entry 1", e.Message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"format\":\"apps-trust\",\"version\":2}")]
    [InlineData("{\"format\":\"apps-trust\",\"version\":1,\"pins\":[{\"host\":\"a\",\"port\":0,\"fingerprint\":\"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}")]
    [InlineData("{\"format\":\"apps-trust\",\"version\":1,\"pins\":[{\"host\":\"a b\",\"port\":1,\"fingerprint\":\"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}")]
    [InlineData("{\"format\":\"apps-trust\",\"version\":1,\"pins\":[{\"host\":\"a\",\"port\":1}]}")]
    [InlineData("{\"format\":\"apps-trust\",\"version\":1,\"pins\":[{\"host\":\"a\",\"port\":1,\"fingerprint\":\"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"chain\":[\"!!\"]}]}")]
    [InlineData("{\"format\":\"apps-trust\",\"version\":1,\"policies\":[{\"scope\":\"planet\",\"name\":\"x\",\"policy\":\"ca\"}]}")]
    public void Malformed_json_is_a_format_error(string json)
    {
        Assert.Throws<ExportFormatException>(() => PinJson.Read(json, Now));
    }

    [Fact]
    public void Deeply_nested_json_is_refused_without_recursion_trouble()
    {
        string json = new string('[', 10_000) + new string(']', 10_000);
        Assert.Throws<ExportFormatException>(() => PinJson.Read(json, Now));
    }

    [Theory]
    [InlineData("nas.lan:443 https", "line 1")]
    [InlineData("# ok\nnas.lan:443 https SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA trusted-by-magic", "line 2")]
    [InlineData("@policy host nas.lan sometimes", "line 1")]
    [InlineData("@policy galaxy x ca", "line 1")]
    [InlineData("nas.lan:443 BAD_SERVICE SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "line 1")]
    public void Malformed_text_names_the_line(string text, string where)
    {
        var e = Assert.Throws<ExportFormatException>(() => KnownHostsText.Read(text, Now));
        Assert.Contains(where, e.Message);
    }

    [Fact]
    public void Overlong_text_lines_are_refused()
    {
        var e = Assert.Throws<ExportFormatException>(() => KnownHostsText.Read("x" + new string(' ', 5000) + "y", Now));
        Assert.Contains("longer than", e.Message);
    }
}
