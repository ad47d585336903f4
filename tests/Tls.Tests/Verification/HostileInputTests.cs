using Apps.Tls.Verification;
using static Apps.Tls.Tests.Verification.VerifierFixture;

namespace Apps.Tls.Tests.Verification;

/// <summary>Malformed DER and denial-of-service shapes: a clean, typed refusal, never an exception or a hang.</summary>
public sealed class HostileInputTests
{
    private static readonly Issued Root = TestCertificate.Root();
    private static readonly Issued Leaf = TestCertificate.Leaf(Root, "example.org");

    private static CertificateVerdict VerifyBytes(params byte[][] chain) =>
        new StrictCertificateVerifier(TrustAnchors.FromCertificates([Root.Der])).Verify(chain, "example.org", TestCertificate.Now);

    [Fact]
    public void Empty_chain_is_malformed() => AssertFailure(VerificationFailure.Malformed, VerifyBytes());

    [Fact]
    public void Empty_certificate_is_malformed() => AssertFailure(VerificationFailure.Malformed, VerifyBytes([]));

    [Fact]
    public void Random_bytes_are_malformed()
    {
        var random = new Random(1234);
        for (var i = 0; i < 200; i++)
        {
            var bytes = new byte[random.Next(1, 2000)];
            random.NextBytes(bytes);
            if (i % 2 == 0)
                bytes[0] = 0x30; // look like a SEQUENCE to get past the first byte

            AssertFailure(VerificationFailure.Malformed, VerifyBytes(bytes));
        }
    }

    [Fact]
    public void Every_truncation_of_a_valid_certificate_is_malformed()
    {
        for (var length = 1; length < Leaf.Der.Length; length++)
            AssertFailure(VerificationFailure.Malformed, VerifyBytes(Leaf.Der[..length]));
    }

    [Fact]
    public void Trailing_bytes_after_the_certificate_are_malformed() =>
        AssertFailure(VerificationFailure.Malformed, VerifyBytes([.. Leaf.Der, 0x00]));

    [Fact]
    public void No_single_bit_flip_in_a_valid_certificate_verifies_or_throws()
    {
        AssertVerified(VerifyBytes(Leaf.Der));
        for (var bit = 0; bit < Leaf.Der.Length * 8; bit++)
        {
            var flipped = (byte[])Leaf.Der.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));

            var verdict = VerifyBytes(flipped);

            Assert.False(verdict.IsVerified, $"bit {bit} flipped still verified");
        }
    }

    [Theory]
    [InlineData(0x30)] // SEQUENCE
    [InlineData(0xA3)] // [3] EXPLICIT, as extensions are wrapped
    public void Deeply_nested_der_is_malformed_without_exhausting_the_stack(byte tag)
    {
        // 20000 nested constructed values in under 64 KiB: a recursive parser would overflow the stack.
        var der = new byte[] { 0x05, 0x00 };
        for (var depth = 0; depth < 20000 && der.Length < ParsedCertificate.MaxDerLength - 8; depth++)
            der = [tag, .. Length(der.Length), .. der];

        AssertFailure(VerificationFailure.Malformed, VerifyBytes(der));
    }

    private static byte[] Length(int length) => length switch
    {
        < 0x80 => [(byte)length],
        < 0x100 => [0x81, (byte)length],
        _ => [0x82, (byte)(length >> 8), (byte)length],
    };

    [Fact]
    public void Oversized_certificate_is_too_complex() =>
        AssertFailure(VerificationFailure.TooComplex, VerifyBytes(new byte[ParsedCertificate.MaxDerLength + 1]));

    [Fact]
    public void Too_many_certificates_from_the_peer_is_too_complex()
    {
        var chain = Enumerable.Repeat(Leaf.Der, new VerificationLimits().MaxPeerCertificates + 1).ToArray();

        AssertFailure(VerificationFailure.TooComplex, VerifyBytes(chain));
    }

    [Fact]
    public void Damaged_anchors_are_left_out_and_counted()
    {
        var pem = "-----BEGIN CERTIFICATE-----\n" + Convert.ToBase64String(Root.Der) + "\n-----END CERTIFICATE-----\n"
            + "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n"
            + "-----BEGIN CERTIFICATE-----\n!!! not base64 !!!\n-----END CERTIFICATE-----\n"
            + "-----BEGIN CERTIFICATE-----\n" + Convert.ToBase64String(Root.Der[..100]);

        var anchors = TrustAnchors.FromPem(pem);

        Assert.Equal(1, anchors.Count);
        Assert.Equal(1, anchors.Unusable);
    }

    [Fact]
    public void Garbage_extra_certificates_are_ignored() =>
        AssertVerified(VerifyBytes(Leaf.Der, [0x30, 0x03, 0x02, 0x01, 0x00], [0xFF]));

    [Fact]
    public void Intermediates_signing_each_other_in_a_cycle_end_as_unknown_issuer()
    {
        var keyA = TestCertificate.NewEcKey();
        var keyB = TestCertificate.NewEcKey();
        var a = new Issued([], "CN=Cycle A", keyA, KeyIdOf(keyA));
        var b = new Issued([], "CN=Cycle B", keyB, KeyIdOf(keyB));
        var aByB = new TestCertificate { Subject = a.Subject, Issuer = b, Ca = true, Key = keyA }.Issue();
        var bByA = new TestCertificate { Subject = b.Subject, Issuer = a, Ca = true, Key = keyB }.Issue();
        var leaf = TestCertificate.Leaf(aByB, "example.org");

        var verdict = Verify(Root, "example.org", leaf, aByB, bByA);

        AssertFailure(VerificationFailure.UnknownIssuer, verdict);
        Assert.Contains("ends at 'CN=Cycle B', issued by 'CN=Cycle A'", verdict.Message);
    }

    [Fact]
    public void Many_same_named_intermediates_exhaust_the_budget_as_too_complex()
    {
        // Go's TestPathologicalChains shape: every intermediate shares one name, each is signed by the
        // previous one's key, so every one is a candidate issuer of every other.
        var chain = new List<Issued>();
        Issued? previous = null;
        for (var i = 0; i < 20; i++)
        {
            previous = new TestCertificate { Subject = "CN=Same Name", Issuer = previous, Ca = true }.Issue();
            chain.Add(previous);
        }
        var leaf = TestCertificate.Leaf(previous!, "example.org");
        var limits = new VerificationLimits { MaxSignatureChecks = 20 };

        var verdict = new StrictCertificateVerifier(TrustAnchors.FromCertificates([Root.Der]), limits)
            .Verify([leaf.Der, .. chain.Select(c => c.Der)], "example.org", TestCertificate.Now);

        AssertFailure(VerificationFailure.TooComplex, verdict);
    }

    [Fact]
    public void Many_names_against_many_constraints_is_too_complex()
    {
        var permitted = Enumerable.Range(0, 600).Select(i => $"dns:p{i}.example.org").ToArray();
        var ca = new TestCertificate { Subject = "CN=Many Constraints", Issuer = Root, Ca = true, Permitted = permitted }.Issue();
        var names = Enumerable.Range(0, 600).Select(i => $"n{i}.p{i}.example.org").ToArray();
        var leaf = new TestCertificate { Subject = "CN=n0.p0.example.org", Issuer = ca, DnsNames = names }.Issue();

        AssertFailure(VerificationFailure.TooComplex, Verify(Root, "n0.p0.example.org", leaf, ca));
    }

    [Fact]
    public void Control_characters_in_names_do_not_reach_the_message()
    {
        var leaf = new TestCertificate { Subject = "CN=evil\nline", Issuer = Root, DnsNames = ["evil.example.org"] }.Issue();

        var verdict = Verify(Root, "example.org", leaf);

        Assert.False(verdict.IsVerified);
        Assert.DoesNotContain('\n', verdict.Message);
    }

    private static byte[] KeyIdOf(Org.BouncyCastle.Crypto.AsymmetricCipherKeyPair key) =>
        System.Security.Cryptography.SHA256.HashData(
            Org.BouncyCastle.X509.SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(key.Public).PublicKey.GetBytes())[..20];
}
