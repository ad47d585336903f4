using Apps.Tls.Verification;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using static Apps.Tls.Tests.Verification.VerifierFixture;

namespace Apps.Tls.Tests.Verification;

/// <summary>RFC 5280 §6.1 path validation: one test per verdict, each asserting the precise reason.</summary>
public sealed class PathValidationTests
{
    private static readonly Issued Root = TestCertificate.Root();
    private static readonly Issued Intermediate = TestCertificate.Intermediate(Root);

    [Fact]
    public void Verifies_leaf_intermediate_root_and_returns_the_path_leaf_first()
    {
        var leaf = TestCertificate.Leaf(Intermediate, "example.org");

        var verdict = Verify(Root, "example.org", leaf, Intermediate);

        AssertVerified(verdict);
        Assert.Equal([leaf.Der, Intermediate.Der, Root.Der], verdict.VerifiedChain);
    }

    [Fact]
    public void Verifies_when_extras_are_out_of_order_and_unrelated_certificates_are_sent()
    {
        var second = TestCertificate.Intermediate(Intermediate, "CN=Second Intermediate");
        var leaf = TestCertificate.Leaf(second, "example.org");
        var unrelated = TestCertificate.Intermediate(TestCertificate.Root("CN=Other Root"), "CN=Unrelated");

        var verdict = Verify(Root, "example.org", leaf, unrelated, Intermediate, second);

        AssertVerified(verdict);
        Assert.Equal(4, verdict.VerifiedChain.Count);
    }

    [Fact]
    public void Verifies_when_the_server_also_sends_the_root()
    {
        var leaf = TestCertificate.Leaf(Intermediate, "example.org");

        AssertVerified(Verify(Root, "example.org", leaf, Intermediate, Root));
    }

    [Fact]
    public void Missing_intermediate_is_unknown_issuer()
    {
        var leaf = TestCertificate.Leaf(Intermediate, "example.org");

        var verdict = Verify(Root, "example.org", leaf);

        AssertFailure(VerificationFailure.UnknownIssuer, verdict);
        Assert.Contains("CN=Test Intermediate", verdict.Message);
    }

    [Fact]
    public void Chain_to_an_untrusted_root_is_unknown_issuer()
    {
        var otherRoot = TestCertificate.Root("CN=Untrusted Root");
        var leaf = TestCertificate.Leaf(otherRoot, "example.org");

        AssertFailure(VerificationFailure.UnknownIssuer, Verify(Root, "example.org", leaf, otherRoot));
    }

    [Fact]
    public void Self_signed_leaf_is_unknown_issuer()
    {
        var self = new TestCertificate { Subject = "CN=appliance.lan", DnsNames = ["appliance.lan"] }.Issue();

        AssertFailure(VerificationFailure.UnknownIssuer, Verify(Root, "appliance.lan", self));
    }

    [Fact]
    public void Expired_leaf_is_expired()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], NotAfter = TestCertificate.Now.AddSeconds(-1) }.Issue();

        var verdict = Verify(Root, "example.org", leaf);

        AssertFailure(VerificationFailure.Expired, verdict);
        Assert.StartsWith("certificate for example.org expired at", verdict.Message);
    }

    [Fact]
    public void Leaf_before_its_not_before_is_not_yet_valid()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], NotBefore = TestCertificate.Now.AddSeconds(1) }.Issue();

        AssertFailure(VerificationFailure.NotYetValid, Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Validity_bounds_are_inclusive()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], NotBefore = TestCertificate.Now, NotAfter = TestCertificate.Now }.Issue();

        AssertVerified(Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Expired_intermediate_is_expired()
    {
        var old = new TestCertificate { Subject = "CN=Old Intermediate", Issuer = Root, Ca = true, NotAfter = TestCertificate.Now.AddDays(-1) }.Issue();
        var leaf = TestCertificate.Leaf(old, "example.org");

        var verdict = Verify(Root, "example.org", leaf, old);

        AssertFailure(VerificationFailure.Expired, verdict);
        Assert.Contains("intermediate CA 'CN=Old Intermediate'", verdict.Message);
    }

    [Fact]
    public void Expired_root_is_expired()
    {
        var oldRoot = new TestCertificate { Subject = "CN=Old Root", Ca = true, NotAfter = TestCertificate.Now.AddDays(-1) }.Issue();
        var leaf = TestCertificate.Leaf(oldRoot, "example.org");

        AssertFailure(VerificationFailure.Expired, Verify(oldRoot, "example.org", leaf));
    }

    [Fact]
    public void Signature_by_another_key_under_the_same_name_is_bad_signature()
    {
        var impostor = new TestCertificate { Subject = Intermediate.Subject, Issuer = Root, Ca = true }.Issue();
        var leaf = TestCertificate.Leaf(impostor, "example.org");

        AssertFailure(VerificationFailure.BadSignature, Verify(Root, "example.org", leaf, Intermediate));
    }

    [Fact]
    public void Issuer_without_ca_flag_is_not_a_ca()
    {
        var notCa = new TestCertificate { Subject = "CN=Not A CA", Issuer = Root, KeyUsageBits = KeyUsage.KeyCertSign, Eku = [] }.Issue();
        var leaf = TestCertificate.Leaf(notCa, "example.org");

        AssertFailure(VerificationFailure.NotACa, Verify(Root, "example.org", leaf, notCa));
    }

    [Fact]
    public void Issuer_without_basic_constraints_is_not_a_ca()
    {
        var bare = new TestCertificate { Subject = "CN=Bare", Issuer = Root, Ca = true, OmitBasicConstraints = true }.Issue();
        var leaf = TestCertificate.Leaf(bare, "example.org");

        AssertFailure(VerificationFailure.NotACa, Verify(Root, "example.org", leaf, bare));
    }

    [Fact]
    public void Path_len_zero_forbids_a_further_intermediate()
    {
        var constrained = TestCertificate.Intermediate(Root, "CN=PathLen Zero", pathLen: 0);
        var below = TestCertificate.Intermediate(constrained, "CN=Below");
        var leaf = TestCertificate.Leaf(below, "example.org");

        var verdict = Verify(Root, "example.org", leaf, below, constrained);

        AssertFailure(VerificationFailure.PathTooLong, verdict);
        Assert.Contains("pathLenConstraint", verdict.Message);
    }

    [Fact]
    public void Path_len_zero_allows_the_leaf()
    {
        var constrained = TestCertificate.Intermediate(Root, "CN=PathLen Zero", pathLen: 0);
        var leaf = TestCertificate.Leaf(constrained, "example.org");

        AssertVerified(Verify(Root, "example.org", leaf, constrained));
    }

    [Fact]
    public void More_intermediates_than_the_limit_is_path_too_long()
    {
        var chain = new List<Issued>();
        var issuer = Root;
        for (var i = 0; i < 7; i++)
        {
            issuer = TestCertificate.Intermediate(issuer, $"CN=Level {i}");
            chain.Add(issuer);
        }
        var leaf = TestCertificate.Leaf(issuer, "example.org");

        AssertFailure(VerificationFailure.PathTooLong, Verify(Root, "example.org", [leaf, .. chain]));
    }

    [Fact]
    public void Issuer_without_key_cert_sign_fails_key_usage()
    {
        var signer = new TestCertificate { Subject = "CN=No CertSign", Issuer = Root, Ca = true, KeyUsageBits = KeyUsage.CrlSign }.Issue();
        var leaf = TestCertificate.Leaf(signer, "example.org");

        AssertFailure(VerificationFailure.KeyUsage, Verify(Root, "example.org", leaf, signer));
    }

    [Fact]
    public void Leaf_without_digital_signature_fails_key_usage()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], KeyUsageBits = KeyUsage.KeyAgreement }.Issue();

        AssertFailure(VerificationFailure.KeyUsage, Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Rsa_leaf_with_key_encipherment_only_is_accepted()
    {
        var leaf = new TestCertificate
        {
            Issuer = Root, DnsNames = ["example.org"], Key = TestCertificate.Rsa2048, KeyUsageBits = KeyUsage.KeyEncipherment,
        }.Issue();

        AssertVerified(Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Leaf_asserting_key_cert_sign_fails_key_usage()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], KeyUsageBits = KeyUsage.DigitalSignature | KeyUsage.KeyCertSign }.Issue();

        AssertFailure(VerificationFailure.KeyUsage, Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Ca_certificate_as_leaf_is_refused()
    {
        var ca = new TestCertificate { Subject = "CN=ca.example.org", Issuer = Root, Ca = true, DnsNames = ["ca.example.org"] }.Issue();

        AssertFailure(VerificationFailure.LeafIsCa, Verify(Root, "ca.example.org", ca));
    }

    [Fact]
    public void Leaf_for_client_auth_only_fails_extended_key_usage()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], Eku = ["1.3.6.1.5.5.7.3.2"] }.Issue();

        var verdict = Verify(Root, "example.org", leaf);

        AssertFailure(VerificationFailure.ExtendedKeyUsage, verdict);
        Assert.Contains("clientAuth", verdict.Message);
    }

    [Fact]
    public void Any_extended_key_usage_does_not_stand_in_for_server_auth()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], Eku = ["2.5.29.37.0"] }.Issue();

        AssertFailure(VerificationFailure.ExtendedKeyUsage, Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Leaf_without_extended_key_usage_is_accepted()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], Eku = [] }.Issue();

        AssertVerified(Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Intermediate_limited_to_other_purposes_fails_extended_key_usage()
    {
        var mailCa = new TestCertificate { Subject = "CN=Mail CA", Issuer = Root, Ca = true, Eku = ["1.3.6.1.5.5.7.3.4"] }.Issue();
        var leaf = TestCertificate.Leaf(mailCa, "example.org");

        AssertFailure(VerificationFailure.ExtendedKeyUsage, Verify(Root, "example.org", leaf, mailCa));
    }

    [Fact]
    public void Unknown_critical_extension_on_the_leaf_is_refused()
    {
        var leaf = new TestCertificate
        {
            Issuer = Root, DnsNames = ["example.org"], Extra = [("1.3.6.1.4.1.55738.666.1", true, DerNull.Instance)],
        }.Issue();

        AssertFailure(VerificationFailure.UnknownCriticalExtension, Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Unknown_critical_extension_on_an_unused_intermediate_does_not_matter()
    {
        var unused = new TestCertificate
        {
            Subject = "CN=Unused", Issuer = Root, Ca = true, Extra = [("1.3.6.1.4.1.55738.666.1", true, DerNull.Instance)],
        }.Issue();
        var leaf = TestCertificate.Leaf(Intermediate, "example.org");

        AssertVerified(Verify(Root, "example.org", leaf, unused, Intermediate));
    }

    [Fact]
    public void Unknown_non_critical_extension_is_ignored()
    {
        var leaf = new TestCertificate
        {
            Issuer = Root, DnsNames = ["example.org"], Extra = [("1.3.6.1.4.1.55738.666.2", false, DerNull.Instance)],
        }.Issue();

        AssertVerified(Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Duplicate_extension_is_refused()
    {
        var leaf = new TestCertificate
        {
            Issuer = Root, DnsNames = ["example.org"], Extra = [("2.5.29.37", false, new DerSequence(new DerObjectIdentifier("1.3.6.1.5.5.7.3.1")))],
        }.Issue();

        AssertFailure(VerificationFailure.DuplicateExtension, Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Missing_authority_key_identifier_on_an_issued_leaf_is_malformed()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], OmitAuthorityKeyId = true }.Issue();

        AssertFailure(VerificationFailure.Malformed, Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Version_1_leaf_is_malformed()
    {
        var leaf = new TestCertificate { Issuer = Root, Version = 1 }.Issue();

        AssertFailure(VerificationFailure.Malformed, Verify(Root, "leaf", leaf));
    }

    [Fact]
    public void Zero_serial_number_is_malformed()
    {
        var leaf = new TestCertificate { Issuer = Root, DnsNames = ["example.org"], Serial = Org.BouncyCastle.Math.BigInteger.Zero }.Issue();

        AssertFailure(VerificationFailure.Malformed, Verify(Root, "example.org", leaf));
    }

    [Fact]
    public void Request_can_lower_the_intermediate_limit()
    {
        var leaf = TestCertificate.Leaf(Intermediate, "example.org");
        var verifier = new StrictCertificateVerifier(TrustAnchors.FromCertificates([Root.Der]));
        var name = PeerName.TryParse("example.org", out var parsed, out _) ? parsed : null;

        var none = verifier.Verify(new VerificationRequest([leaf.Der, Intermediate.Der], name, TestCertificate.Now) { MaxIntermediates = 0 });
        var one = verifier.Verify(new VerificationRequest([leaf.Der, Intermediate.Der], name, TestCertificate.Now) { MaxIntermediates = 1 });

        AssertFailure(VerificationFailure.PathTooLong, none);
        AssertVerified(one);
    }

    [Fact]
    public void Server_certificate_fails_a_client_auth_request()
    {
        var leaf = TestCertificate.Leaf(Root, "example.org");

        var verdict = new StrictCertificateVerifier(TrustAnchors.FromCertificates([Root.Der]))
            .Verify(new VerificationRequest([leaf.Der], null, TestCertificate.Now) { Purpose = KeyPurpose.ClientAuth });

        AssertFailure(VerificationFailure.ExtendedKeyUsage, verdict);
    }

    [Fact]
    public void One_verifier_serves_many_threads_at_once()
    {
        var leaf = TestCertificate.Leaf(Intermediate, "example.org");
        var other = TestCertificate.Leaf(Intermediate, "other.example.org");
        var verifier = new StrictCertificateVerifier(TrustAnchors.FromCertificates([Root.Der]));
        var failures = 0;

        Parallel.For(0, 200, i =>
        {
            var verdict = i % 2 == 0
                ? verifier.Verify([leaf.Der, Intermediate.Der], "example.org", TestCertificate.Now)
                : verifier.Verify([other.Der, Intermediate.Der], "example.org", TestCertificate.Now);
            var expected = i % 2 == 0 ? VerificationFailure.None : VerificationFailure.NameMismatch;
            if (verdict.Failure != expected)
                Interlocked.Increment(ref failures);
        });

        Assert.Equal(0, failures);
    }
}
