using Apps.Tls.Verification;
using static Apps.Tls.Tests.Verification.VerifierFixture;

namespace Apps.Tls.Tests.Verification;

/// <summary>RFC 6125 §6 host matching on subjectAltName only.</summary>
public sealed class HostNameMatchingTests
{
    private static readonly Issued Root = TestCertificate.Root();

    private static Issued LeafFor(string[] dns, string[]? ips = null, string subject = "CN=example.org") =>
        new TestCertificate { Subject = subject, Issuer = Root, DnsNames = dns, IpAddresses = ips ?? [] }.Issue();

    [Fact]
    public void Mismatch_message_names_the_certificate_and_what_it_is_valid_for()
    {
        var leaf = LeafFor(["example.org", "www.example.org"]);

        var verdict = Verify(Root, "mail.example.org", leaf);

        AssertFailure(VerificationFailure.NameMismatch, verdict);
        Assert.Equal("certificate for example.org is not valid for the name 'mail.example.org' (it names example.org, www.example.org)",
            verdict.Message);
    }

    [Theory]
    [InlineData("example.org")]
    [InlineData("EXAMPLE.org")]
    [InlineData("example.org.")]
    public void Dns_name_matches_case_insensitively_and_ignores_a_trailing_dot(string requested) =>
        AssertVerified(Verify(Root, requested, LeafFor(["Example.ORG"], subject: "CN=Example.ORG")));

    [Theory]
    [InlineData("www.example.org", true)]
    [InlineData("WWW.Example.Org", true)]
    [InlineData("example.org", false)]
    [InlineData("a.b.example.org", false)]
    [InlineData("wwwexample.org", false)]
    public void Wildcard_covers_exactly_one_left_most_label(string requested, bool matches)
    {
        var verdict = Verify(Root, requested, LeafFor(["*.example.org"], subject: "CN=*.example.org"));

        if (matches)
            AssertVerified(verdict);
        else
            AssertFailure(VerificationFailure.NameMismatch, verdict);
    }

    [Theory]
    [InlineData("w*.example.org")]
    [InlineData("www.*.example.org")]
    [InlineData("*")]
    [InlineData(".example.org")]
    [InlineData("under_score.example.org")]
    public void Malformed_or_over_broad_dns_names_make_the_certificate_malformed(string san) =>
        AssertFailure(VerificationFailure.Malformed, Verify(Root, "www.example.org", LeafFor([san], subject: "CN=test")));

    [Theory]
    [InlineData("*.org", "example.org")]
    [InlineData("*.lan", "printer.lan")]
    public void Wildcard_over_a_whole_top_level_domain_matches_nothing(string san, string requested) =>
        AssertFailure(VerificationFailure.NameMismatch, Verify(Root, requested, LeafFor([san], subject: "CN=test")));

    [Fact]
    public void Subject_common_name_is_never_used_for_matching()
    {
        var leaf = LeafFor(["other.example.org"], subject: "CN=example.org");

        AssertFailure(VerificationFailure.NameMismatch, Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Certificate_without_subject_alt_name_matches_nothing()
    {
        var leaf = LeafFor([], subject: "CN=example.org");

        var verdict = Verify(Root, "example.org", leaf);

        AssertFailure(VerificationFailure.NameMismatch, verdict);
        Assert.Contains("it names no host in subjectAltName", verdict.Message);
    }

    [Fact]
    public void U_label_request_matches_the_a_label_san()
    {
        var leaf = LeafFor(["xn--bcher-kva.example"], subject: "CN=xn--bcher-kva.example");

        AssertVerified(Verify(Root, "bücher.example", leaf));
        AssertVerified(Verify(Root, "BÜCHER.example", leaf));
    }

    [Fact]
    public void Wildcard_matches_an_a_label()
    {
        var leaf = LeafFor(["*.example.org"], subject: "CN=*.example.org");

        AssertVerified(Verify(Root, "bücher.example.org", leaf));
    }

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("[2001:db8::1]")]
    [InlineData("2001:0db8:0:0:0:0:0:1")]
    public void Ip_literal_matches_an_ip_address_san(string requested)
    {
        var leaf = LeafFor([], ["192.0.2.1", "2001:db8::1"], subject: "CN=192.0.2.1");

        AssertVerified(Verify(Root, requested, leaf));
    }

    [Fact]
    public void Ip_literal_never_matches_a_dns_name_san()
    {
        var leaf = LeafFor(["192.0.2.1"], subject: "CN=192.0.2.1");

        AssertFailure(VerificationFailure.NameMismatch, Verify(Root, "192.0.2.1", leaf));
    }

    [Fact]
    public void Ip_literal_never_matches_a_wildcard()
    {
        var leaf = LeafFor(["*.0.2.1"], subject: "CN=test");

        AssertFailure(VerificationFailure.NameMismatch, Verify(Root, "192.0.2.1", leaf));
    }

    [Fact]
    public void Dns_name_never_matches_an_ip_address_san()
    {
        var leaf = LeafFor(["example.org"], ["192.0.2.1"]);

        AssertFailure(VerificationFailure.NameMismatch, Verify(Root, "1.2.0.192.in-addr.arpa", leaf));
    }

    [Fact]
    public void Common_name_spelling_a_san_differently_is_malformed()
    {
        var leaf = LeafFor(["example.org"], subject: "CN=Example.org");

        AssertFailure(VerificationFailure.Malformed, Verify(Root, "example.org", leaf));
    }

    [Theory]
    [InlineData("")]
    [InlineData("exa mple.org")]
    [InlineData("-leading.example.org")]
    [InlineData("192.168.1")]
    [InlineData("fe80::1%eth0")]
    [InlineData("*.example.org")]
    public void Unusable_requested_names_are_refused_as_mismatch(string requested)
    {
        var verdict = Verify(Root, requested, LeafFor(["example.org"]));

        AssertFailure(VerificationFailure.NameMismatch, verdict);
    }

    [Theory]
    [InlineData("192.168.1.1", true)]
    [InlineData("0192.168.1.1", false)]
    [InlineData("192.168.01.1", false)]
    [InlineData("256.1.1.1", false)]
    [InlineData("1.1.1", false)]
    public void Ipv4_literals_are_read_strictly(string text, bool isAddress)
    {
        Assert.True(PeerName.TryParse(text, out var name, out _) || !isAddress);
        Assert.Equal(isAddress, name?.IsAddress == true);
    }
}
