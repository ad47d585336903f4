using Apps.Tls.Verification;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Tests.Verification;

public sealed class CertificateAlertTests
{
    [Theory]
    [InlineData(VerificationFailure.UnknownIssuer, AlertDescription.unknown_ca)]
    [InlineData(VerificationFailure.Expired, AlertDescription.certificate_expired)]
    [InlineData(VerificationFailure.NotYetValid, AlertDescription.certificate_expired)]
    [InlineData(VerificationFailure.BadSignature, AlertDescription.decrypt_error)]
    [InlineData(VerificationFailure.Revoked, AlertDescription.certificate_revoked)]
    [InlineData(VerificationFailure.ExtendedKeyUsage, AlertDescription.unsupported_certificate)]
    [InlineData(VerificationFailure.WeakKey, AlertDescription.unsupported_certificate)]
    [InlineData(VerificationFailure.NameMismatch, AlertDescription.bad_certificate)]
    [InlineData(VerificationFailure.Malformed, AlertDescription.bad_certificate)]
    [InlineData(VerificationFailure.TooComplex, AlertDescription.certificate_unknown)]
    public void Each_failure_maps_to_the_rfc_8446_alert(VerificationFailure failure, short alert) =>
        Assert.Equal(alert, CertificateAlert.For(failure));

    [Fact]
    public void Every_failure_has_an_alert()
    {
        foreach (var failure in Enum.GetValues<VerificationFailure>().Where(f => f != VerificationFailure.None))
            Assert.InRange(CertificateAlert.For(failure), (byte)40, (byte)60);
    }
}
