using Apps.Tls.Verification;
using static Apps.Tls.Tests.Verification.VerifierFixture;

namespace Apps.Tls.Tests.Verification;

/// <summary>RFC 5280 §4.2.1.10 name constraints on dNSName and iPAddress, in both directions.</summary>
public sealed class NameConstraintTests
{
    private static readonly Issued Root = TestCertificate.Root();

    private static Issued ConstrainedCa(string[]? permitted = null, string[]? excluded = null) =>
        new TestCertificate
        {
            Subject = "CN=Constrained CA", Issuer = Root, Ca = true, Permitted = permitted ?? [], Excluded = excluded ?? [],
        }.Issue();

    private static CertificateVerdict VerifyUnder(Issued ca, string name, string[] dns, string[]? ips = null)
    {
        var leaf = new TestCertificate { Subject = "CN=" + name, Issuer = ca, DnsNames = dns, IpAddresses = ips ?? [] }.Issue();
        return Verify(Root, name, leaf, ca);
    }

    [Theory]
    [InlineData("example.org")]
    [InlineData("www.example.org")]
    [InlineData("a.b.example.org")]
    public void Permitted_dns_subtree_admits_the_name_and_names_below_it(string name) =>
        AssertVerified(VerifyUnder(ConstrainedCa(permitted: ["dns:example.org"]), name, [name]));

    [Theory]
    [InlineData("example.com")]
    [InlineData("notexample.org")]
    public void Permitted_dns_subtree_refuses_names_outside_it(string name)
    {
        var verdict = VerifyUnder(ConstrainedCa(permitted: ["dns:example.org"]), name, [name]);

        AssertFailure(VerificationFailure.NameConstraintViolation, verdict);
        Assert.Contains("CN=Constrained CA", verdict.Message);
    }

    [Fact]
    public void Every_san_must_be_permitted_not_only_the_requested_one()
    {
        var verdict = VerifyUnder(ConstrainedCa(permitted: ["dns:example.org"]), "www.example.org", ["www.example.org", "evil.example.com"]);

        AssertFailure(VerificationFailure.NameConstraintViolation, verdict);
    }

    [Fact]
    public void Excluded_dns_subtree_refuses_names_in_it()
    {
        var verdict = VerifyUnder(ConstrainedCa(excluded: ["dns:internal.example.org"]), "db.internal.example.org", ["db.internal.example.org"]);

        AssertFailure(VerificationFailure.NameConstraintViolation, verdict);
    }

    [Fact]
    public void Excluded_dns_subtree_admits_names_outside_it() =>
        AssertVerified(VerifyUnder(ConstrainedCa(excluded: ["dns:internal.example.org"]), "www.example.org", ["www.example.org"]));

    [Fact]
    public void Excluded_wins_over_permitted()
    {
        var ca = ConstrainedCa(permitted: ["dns:example.org"], excluded: ["dns:secret.example.org"]);

        AssertFailure(VerificationFailure.NameConstraintViolation, VerifyUnder(ca, "secret.example.org", ["secret.example.org"]));
    }

    [Fact]
    public void Wildcard_san_that_could_reach_an_excluded_name_is_refused()
    {
        var ca = ConstrainedCa(excluded: ["dns:bar.example.org"]);

        AssertFailure(VerificationFailure.NameConstraintViolation, VerifyUnder(ca, "foo.example.org", ["*.example.org"]));
    }

    [Fact]
    public void Wildcard_san_inside_a_permitted_subtree_is_admitted() =>
        AssertVerified(VerifyUnder(ConstrainedCa(permitted: ["dns:example.org"]), "www.example.org", ["*.example.org"]));

    [Fact]
    public void Wildcard_san_wider_than_the_permitted_subtree_is_refused() =>
        AssertFailure(VerificationFailure.NameConstraintViolation,
            VerifyUnder(ConstrainedCa(permitted: ["dns:www.example.org"]), "www.example.org", ["*.example.org"]));

    [Fact]
    public void Permitted_ip_range_admits_an_address_in_it() =>
        AssertVerified(VerifyUnder(ConstrainedCa(permitted: ["ip:192.0.2.0/24"]), "192.0.2.7", [], ["192.0.2.7"]));

    [Fact]
    public void Permitted_ip_range_refuses_an_address_outside_it() =>
        AssertFailure(VerificationFailure.NameConstraintViolation,
            VerifyUnder(ConstrainedCa(permitted: ["ip:192.0.2.0/24"]), "198.51.100.7", [], ["198.51.100.7"]));

    [Fact]
    public void Excluded_ipv6_range_refuses_an_address_in_it() =>
        AssertFailure(VerificationFailure.NameConstraintViolation,
            VerifyUnder(ConstrainedCa(excluded: ["ip:2001:db8::/32"]), "2001:db8::5", [], ["2001:db8::5"]));

    [Fact]
    public void Ip_constraints_do_not_restrict_dns_names() =>
        AssertVerified(VerifyUnder(ConstrainedCa(permitted: ["ip:192.0.2.0/24"]), "example.org", ["example.org"]));

    [Fact]
    public void Constraints_of_a_root_bind_the_whole_path()
    {
        var constrainedRoot = new TestCertificate { Subject = "CN=Constrained Root", Ca = true, Permitted = ["dns:example.org"] }.Issue();
        var intermediate = TestCertificate.Intermediate(constrainedRoot);
        var leaf = TestCertificate.Leaf(intermediate, "example.com");

        AssertFailure(VerificationFailure.NameConstraintViolation, Verify(constrainedRoot, "example.com", leaf, intermediate));
    }

    [Fact]
    public void Path_builder_tries_another_issuer_when_constraints_forbid_one()
    {
        // Two certificates for the same intermediate (same name and key): one under a constrained
        // CA that excludes the leaf's name, one under an unconstrained root. The second path is valid.
        var intermediateKey = TestCertificate.NewEcKey();
        var otherRoot = TestCertificate.Root("CN=Other Root");
        var constrained = ConstrainedCa(excluded: ["dns:example.org"]);
        var viaConstrained = new TestCertificate { Subject = "CN=Shared", Issuer = constrained, Ca = true, Key = intermediateKey }.Issue();
        var viaOther = new TestCertificate { Subject = "CN=Shared", Issuer = otherRoot, Ca = true, Key = intermediateKey }.Issue();
        var leaf = TestCertificate.Leaf(viaConstrained, "www.example.org");

        AssertFailure(VerificationFailure.NameConstraintViolation, Verify([Root], "www.example.org", leaf, viaConstrained, constrained));
        AssertVerified(Verify([Root, otherRoot], "www.example.org", leaf, viaConstrained, constrained, viaOther));
    }

    [Theory]
    [InlineData("email:alice@example.org", "alice@example.org", true)]
    [InlineData("email:alice@example.org", "Alice@example.org", false)]
    [InlineData("email:example.org", "bob@EXAMPLE.org", true)]
    [InlineData("email:example.org", "bob@mail.example.org", false)]
    [InlineData("email:.example.org", "bob@mail.example.org", true)]
    [InlineData("email:.example.org", "bob@example.org", false)]
    public void Rfc822_subtrees_follow_rfc_5280(string constraint, string mailbox, bool permitted)
    {
        var ca = ConstrainedCa(permitted: [constraint]);
        var leaf = new TestCertificate { Subject = "CN=client", Issuer = ca, Emails = [mailbox], Eku = ["1.3.6.1.5.5.7.3.2"] }.Issue();

        var verdict = VerifyClient(leaf, ca);

        if (permitted)
            AssertVerified(verdict);
        else
            AssertFailure(VerificationFailure.NameConstraintViolation, verdict);
    }

    [Theory]
    [InlineData("O=Apps Tests, CN=client", true)]
    [InlineData("O=Elsewhere, CN=client", false)]
    [InlineData("CN=client, O=Apps Tests", false)]
    public void Directory_name_subtree_binds_the_subject(string subject, bool permitted)
    {
        // RFC 5280 §4.2.1.10: the constraint's RDNs must be the leading RDNs of the subject, in order.
        var ca = ConstrainedCa(permitted: ["dn:O=Apps Tests"]);
        var leaf = new TestCertificate { Subject = subject, Issuer = ca, Emails = ["x@example.org"], Eku = ["1.3.6.1.5.5.7.3.2"] }.Issue();

        var verdict = VerifyClient(leaf, ca);

        if (permitted)
            AssertVerified(verdict);
        else
            AssertFailure(VerificationFailure.NameConstraintViolation, verdict);
    }

    private static CertificateVerdict VerifyClient(Issued leaf, Issued ca) =>
        new StrictCertificateVerifier(TrustAnchors.FromCertificates([Root.Der]))
            .Verify(new VerificationRequest([leaf.Der, ca.Der], null, TestCertificate.Now) { Purpose = KeyPurpose.ClientAuth });
}
