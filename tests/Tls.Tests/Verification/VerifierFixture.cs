using Apps.Tls.Verification;

namespace Apps.Tls.Tests.Verification;

/// <summary>Shortcuts shared by the verification tests.</summary>
internal static class VerifierFixture
{
    public static CertificateVerdict Verify(Issued root, string name, params Issued[] chain) =>
        Verify([root], name, chain);

    public static CertificateVerdict Verify(Issued[] roots, string name, params Issued[] chain) =>
        new StrictCertificateVerifier(TrustAnchors.FromCertificates(roots.Select(r => r.Der)))
            .Verify(chain.Select(c => c.Der).ToList(), name, TestCertificate.Now);

    public static void AssertFailure(VerificationFailure expected, CertificateVerdict verdict)
    {
        Assert.True(expected == verdict.Failure, $"expected {expected}, got {verdict.Failure}: {verdict.Message}");
        Assert.False(verdict.IsVerified);
        Assert.Empty(verdict.VerifiedChain);
    }

    public static void AssertVerified(CertificateVerdict verdict) =>
        Assert.True(verdict.IsVerified, $"expected success, got {verdict.Failure}: {verdict.Message}");
}
