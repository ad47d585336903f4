using System.Diagnostics;
using Apps.TrustStore.Certificates;

namespace Apps.TrustStore.Tests;

public class SpkiFingerprintTests
{
    [Fact]
    public void Fingerprint_of_certificate_is_sha256_of_its_spki()
    {
        using var key = TestCertificates.NewKey();
        CertificateInfo info = CertificateInfo.Parse(TestCertificates.SelfSigned(key));
        Assert.Equal(TestCertificates.SpkiSha256(key), info.Spki.Digest.ToArray());
    }

    [Fact]
    public void Fingerprint_matches_what_openssl_computes()
    {
        using var key = TestCertificates.NewKey();
        byte[] der = TestCertificates.SelfSigned(key);
        using var dir = new TestCertificates.TempDir();
        string pem = Path.Combine(dir.Path, "c.pem");
        File.WriteAllText(pem, PemCertificates.Format([der]));
        var psi = new ProcessStartInfo("sh", ["-c", $"openssl x509 -in '{pem}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64"])
        {
            RedirectStandardOutput = true,
        };
        using Process p = Process.Start(psi)!;
        string b64 = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        Assert.Equal("SHA256:" + b64.TrimEnd('='), CertificateInfo.Parse(der).Spki.ToString());
    }

    [Fact]
    public void OpenSsh_form_is_unpadded_base64_and_round_trips()
    {
        var fp = SpkiFingerprint.FromDigest(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        string text = fp.ToString();
        Assert.StartsWith("SHA256:", text);
        Assert.Equal(7 + 43, text.Length);
        Assert.DoesNotContain("=", text);
        Assert.Equal(fp, SpkiFingerprint.Parse(text));
        Assert.Equal(fp, SpkiFingerprint.Parse(text + "="));
    }

    [Fact]
    public void Hex_form_is_colon_separated_and_round_trips_with_or_without_colons()
    {
        var fp = SpkiFingerprint.FromDigest(Enumerable.Repeat((byte)0xAB, 32).ToArray());
        string hex = fp.ToHex();
        Assert.Equal(string.Join(':', Enumerable.Repeat("AB", 32)), hex);
        Assert.Equal(fp, SpkiFingerprint.Parse(hex));
        Assert.Equal(fp, SpkiFingerprint.Parse(hex.Replace(":", "").ToLowerInvariant()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("SHA256:")]
    [InlineData("SHA256:tooshort")]
    [InlineData("SHA256:!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!")]
    [InlineData("MD5:00:11:22")]
    [InlineData("zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz:zz")]
    public void Malformed_fingerprints_are_rejected_with_a_reason(string text)
    {
        Assert.False(SpkiFingerprint.TryParse(text, out _, out string error));
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.Throws<FormatException>(() => SpkiFingerprint.Parse(text));
    }

    [Fact]
    public void Oversized_input_is_rejected_without_parsing()
    {
        Assert.False(SpkiFingerprint.TryParse(new string('A', 100_000), out _, out _));
    }
}
