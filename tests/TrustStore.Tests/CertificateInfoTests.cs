using Apps.TrustStore.Certificates;

namespace Apps.TrustStore.Tests;

public class CertificateInfoTests
{
    [Fact]
    public void Reads_names_validity_and_subject_alt_names()
    {
        using var key = TestCertificates.NewKey();
        var notBefore = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var notAfter = new DateTimeOffset(2027, 1, 2, 3, 4, 5, TimeSpan.Zero);
        CertificateInfo info = CertificateInfo.Parse(TestCertificates.SelfSigned(key, "chat.example.org", notBefore, notAfter));
        Assert.Contains("CN=chat.example.org", info.Subject);
        Assert.Equal(info.Subject, info.Issuer);
        Assert.Equal(notBefore, info.NotBefore);
        Assert.Equal(notAfter, info.NotAfter);
        Assert.Equal(["DNS:chat.example.org", "IP:127.0.0.1"], info.SubjectAltNames);
        Assert.True(info.IsValidAt(notBefore.AddDays(1)));
        Assert.False(info.IsValidAt(notAfter.AddSeconds(1)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(100)]
    public void Truncated_certificates_are_a_format_error(int keep)
    {
        using var key = TestCertificates.NewKey();
        byte[] der = TestCertificates.SelfSigned(key);
        Assert.Throws<CertificateFormatException>(() => CertificateInfo.Parse(der.AsSpan(0, keep)));
    }

    [Fact]
    public void Garbage_and_oversized_input_are_a_format_error()
    {
        Assert.Throws<CertificateFormatException>(() => CertificateInfo.Parse("not a certificate"u8));
        Assert.Throws<CertificateFormatException>(() => CertificateInfo.Parse(new byte[CertificateInfo.MaxDerLength + 1]));
        var random = new byte[500];
        new Random(42).NextBytes(random);
        random[0] = 0x30;
        Assert.Throws<CertificateFormatException>(() => CertificateInfo.Parse(random));
    }

    [Fact]
    public void Pem_round_trips_a_chain_leaf_first()
    {
        using var k1 = TestCertificates.NewKey();
        using var k2 = TestCertificates.NewKey();
        byte[] a = TestCertificates.SelfSigned(k1, "a.example"), b = TestCertificates.SelfSigned(k2, "b.example");
        IReadOnlyList<byte[]> chain = PemCertificates.Parse("junk before\n" + PemCertificates.Format([a, b]));
        Assert.Equal(2, chain.Count);
        Assert.Equal(a, chain[0]);
        Assert.Equal(b, chain[1]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA")]
    [InlineData("-----BEGIN CERTIFICATE-----\n!!notbase64!!\n-----END CERTIFICATE-----\n")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")]
    public void Malformed_pem_is_a_format_error(string pem)
    {
        Assert.Throws<CertificateFormatException>(() => PemCertificates.Parse(pem));
    }
}
