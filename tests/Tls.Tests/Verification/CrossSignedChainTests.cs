using Apps.Tls.Verification;
using Apps.Tls.Verification.Storage;
using static Apps.Tls.Tests.Verification.VerifierFixture;

namespace Apps.Tls.Tests.Verification;

/// <summary>
/// A chain shaped like Let's Encrypt's in 2021: leaf ← R3 ← ISRG Root X1, where ISRG Root X1 also
/// exists as a certificate cross-signed by the older DST Root CA X3 and servers send that too.
/// </summary>
public sealed class CrossSignedChainTests
{
    private static readonly Issued OldRoot = new TestCertificate { Subject = "CN=DST Root CA X3, O=Digital Signature Trust Co.", Ca = true }.Issue();
    private static readonly Issued NewRoot = new TestCertificate
    {
        Subject = "CN=ISRG Root X1, O=Internet Security Research Group, C=US", Ca = true, Key = TestCertificate.Rsa2048,
    }.Issue();
    private static readonly Issued R3 = new TestCertificate
    {
        Subject = "CN=R3, O=Let's Encrypt, C=US", Issuer = NewRoot, Ca = true, PathLen = 0, Key = TestCertificate.Rsa2048,
    }.Issue();
    private static readonly Issued Leaf = TestCertificate.Leaf(R3, "example.org", "www.example.org");

    private static Issued CrossSigned(DateTimeOffset notAfter) => new TestCertificate
    {
        Subject = NewRoot.Subject, Issuer = OldRoot, Ca = true, Key = NewRoot.Key, NotAfter = notAfter,
    }.Issue();

    [Fact]
    public void Client_trusting_the_new_root_ends_there_and_ignores_the_cross_signed_copy()
    {
        var cross = CrossSigned(TestCertificate.Now.AddYears(1));

        var verdict = Verify(NewRoot, "www.example.org", Leaf, R3, cross);

        AssertVerified(verdict);
        Assert.Equal([Leaf.Der, R3.Der, NewRoot.Der], verdict.VerifiedChain);
    }

    [Fact]
    public void Client_trusting_only_the_old_root_verifies_through_the_cross_signed_certificate()
    {
        var cross = CrossSigned(TestCertificate.Now.AddYears(1));

        var verdict = Verify(OldRoot, "www.example.org", Leaf, R3, cross);

        AssertVerified(verdict);
        Assert.Equal([Leaf.Der, R3.Der, cross.Der, OldRoot.Der], verdict.VerifiedChain);
    }

    [Fact]
    public void Expired_cross_signature_fails_for_a_client_trusting_only_the_old_root()
    {
        var cross = CrossSigned(TestCertificate.Now.AddDays(-1));

        var verdict = Verify(OldRoot, "www.example.org", Leaf, R3, cross);

        AssertFailure(VerificationFailure.Expired, verdict);
        Assert.Contains("ISRG Root X1", verdict.Message);
    }

    [Fact]
    public void Expired_cross_signature_is_routed_around_when_the_new_root_is_trusted()
    {
        var cross = CrossSigned(TestCertificate.Now.AddDays(-1));

        var verdict = Verify([OldRoot, NewRoot], "www.example.org", Leaf, R3, cross);

        AssertVerified(verdict);
        Assert.Equal(3, verdict.VerifiedChain.Count);
    }

    [Fact]
    public void System_roots_load_from_the_debian_bundle()
    {
        var anchors = SystemTrustStore.Load();

        Assert.True(anchors.Count > 100, $"only {anchors.Count} roots in {SystemTrustStore.BundlePath}");
    }

    [Fact]
    public void Chain_to_our_test_root_is_unknown_to_the_system_roots()
    {
        var verdict = new StrictCertificateVerifier(SystemTrustStore.Load())
            .Verify([Leaf.Der, R3.Der], "example.org", TestCertificate.Now);

        AssertFailure(VerificationFailure.UnknownIssuer, verdict);
    }
}
