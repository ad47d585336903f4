// Certificates made at test time with BouncyCastle. The TBSCertificate is assembled by hand rather
// than through X509V3CertificateGenerator so that tests can also build what a generator refuses
// to: duplicate extensions, version 1 certificates, zero serials, mismatched algorithms.
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Operators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.X509;

namespace Apps.Tls.Tests.Verification;

/// <summary>A certificate issued in a test: its DER, subject, key pair and key identifier.</summary>
internal sealed record Issued(byte[] Der, string Subject, AsymmetricCipherKeyPair Key, byte[] KeyId);

/// <summary>What to put in a test certificate; <see cref="Issue"/> signs it.</summary>
internal sealed class TestCertificate
{
    /// <summary>The instant every test validates at.</summary>
    public static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly SecureRandom Random = new();
    private static readonly Lazy<AsymmetricCipherKeyPair> SharedRsa2048 = new(() => NewRsaKey(2048));

    public string Subject { get; init; } = "CN=leaf";
    /// <summary>Issuer; null makes the certificate self-signed.</summary>
    public Issued? Issuer { get; init; }
    /// <summary>Overrides the issuer name written into the certificate.</summary>
    public string? IssuerName { get; init; }
    public AsymmetricCipherKeyPair? Key { get; init; }
    public DateTimeOffset NotBefore { get; init; } = Now.AddDays(-30);
    public DateTimeOffset NotAfter { get; init; } = Now.AddDays(60);
    public BigInteger? Serial { get; init; }
    public int Version { get; init; } = 3;
    /// <summary>BouncyCastle signature algorithm name; defaults to SHA-256 with the issuer's key type.</summary>
    public string? SignatureAlgorithm { get; init; }

    public bool Ca { get; init; }
    public int? PathLen { get; init; }
    public bool OmitBasicConstraints { get; init; }
    /// <summary>keyUsage bits (BouncyCastle <see cref="KeyUsage"/> constants); defaults by role; 0 omits it.</summary>
    public int? KeyUsageBits { get; init; }
    /// <summary>extendedKeyUsage OIDs; defaults to serverAuth on leaves; empty omits it.</summary>
    public string[]? Eku { get; init; }
    public string[] DnsNames { get; init; } = [];
    public string[] IpAddresses { get; init; } = [];
    public string[] Emails { get; init; } = [];
    public string[] Permitted { get; init; } = [];
    public string[] Excluded { get; init; } = [];
    public bool OmitAuthorityKeyId { get; init; }
    public List<(string Oid, bool Critical, Asn1Encodable Value)> Extra { get; init; } = [];

    public static AsymmetricCipherKeyPair NewEcKey(DerObjectIdentifier? curve = null)
    {
        var generator = new ECKeyPairGenerator();
        generator.Init(new ECKeyGenerationParameters(curve ?? SecObjectIdentifiers.SecP256r1, Random));
        return generator.GenerateKeyPair();
    }

    public static AsymmetricCipherKeyPair NewRsaKey(int bits)
    {
        var generator = new RsaKeyPairGenerator();
        generator.Init(new RsaKeyGenerationParameters(BigInteger.ValueOf(65537), Random, bits, 80));
        return generator.GenerateKeyPair();
    }

    /// <summary>One 2048-bit RSA key shared by tests (generating them is slow).</summary>
    public static AsymmetricCipherKeyPair Rsa2048 => SharedRsa2048.Value;

    public static Issued Root(string name = "CN=Test Root, O=Apps Tests") =>
        new TestCertificate { Subject = name, Ca = true }.Issue();

    public static Issued Intermediate(Issued issuer, string name = "CN=Test Intermediate, O=Apps Tests", int? pathLen = null) =>
        new TestCertificate { Subject = name, Issuer = issuer, Ca = true, PathLen = pathLen }.Issue();

    public static Issued Leaf(Issued issuer, params string[] dnsNames) =>
        new TestCertificate { Subject = "CN=" + dnsNames[0], Issuer = issuer, DnsNames = dnsNames }.Issue();

    public Issued Issue()
    {
        var key = Key ?? NewEcKey();
        var signerKey = Issuer?.Key ?? key;
        var algorithm = SignatureAlgorithm
            ?? (signerKey.Private is RsaKeyParameters ? "SHA256WITHRSA" : "SHA256WITHECDSA");
        var factory = new Asn1SignatureFactory(algorithm, signerKey.Private, Random);
        var algorithmId = (AlgorithmIdentifier)factory.AlgorithmDetails;
        var spki = SubjectPublicKeyInfoFactory.CreateSubjectPublicKeyInfo(key.Public);
        var keyId = System.Security.Cryptography.SHA256.HashData(spki.PublicKey.GetBytes())[..20];

        var tbs = new Asn1EncodableVector();
        if (Version != 1)
            tbs.Add(new DerTaggedObject(true, 0, DerInteger.ValueOf(Version - 1)));
        tbs.Add(new DerInteger(Serial ?? new BigInteger(64, Random).Add(BigInteger.One)));
        tbs.Add(algorithmId);
        tbs.Add(Name(IssuerName ?? Issuer?.Subject ?? Subject));
        tbs.Add(new DerSequence(new Time(NotBefore.UtcDateTime), new Time(NotAfter.UtcDateTime)));
        tbs.Add(Name(Subject));
        tbs.Add(spki);
        var extensions = Extensions(keyId);
        if (extensions.Count > 0)
            tbs.Add(new DerTaggedObject(true, 3, new DerSequence(extensions.ToArray())));
        var tbsDer = new DerSequence(tbs).GetDerEncoded();

        var calculator = factory.CreateCalculator();
        using (var stream = calculator.Stream)
            stream.Write(tbsDer);
        var signature = calculator.GetResult().Collect();
        var der = new DerSequence(Asn1Object.FromByteArray(tbsDer), algorithmId, new DerBitString(signature)).GetDerEncoded();
        return new Issued(der, Subject, key, keyId);
    }

    private static Asn1Encodable Name(string name) => name.Length == 0 ? new DerSequence() : new X509Name(name);

    private List<Asn1Encodable> Extensions(byte[] keyId)
    {
        var list = new List<Asn1Encodable>();
        void Add(string oid, bool critical, Asn1Encodable value)
        {
            var ext = new Asn1EncodableVector { new DerObjectIdentifier(oid) };
            if (critical)
                ext.Add(DerBoolean.True);
            ext.Add(new DerOctetString(value.GetDerEncoded()));
            list.Add(new DerSequence(ext));
        }

        if (Ca && !OmitBasicConstraints)
            Add("2.5.29.19", true, PathLen is { } p ? new BasicConstraints(p) : new BasicConstraints(true));
        var ku = KeyUsageBits ?? (Ca ? KeyUsage.KeyCertSign | KeyUsage.CrlSign : KeyUsage.DigitalSignature);
        if (ku != 0)
            Add("2.5.29.15", true, new KeyUsage(ku));
        var eku = Eku ?? (Ca ? [] : ["1.3.6.1.5.5.7.3.1"]);
        if (eku.Length > 0)
            Add("2.5.29.37", false, new DerSequence(eku.Select(o => (Asn1Encodable)new DerObjectIdentifier(o)).ToArray()));
        var names = DnsNames.Select(n => new GeneralName(GeneralName.DnsName, n))
            .Concat(Emails.Select(e => new GeneralName(GeneralName.Rfc822Name, e)))
            .Concat(IpAddresses.Select(ip => new GeneralName(GeneralName.IPAddress, new DerOctetString(System.Net.IPAddress.Parse(ip).GetAddressBytes()))))
            .ToArray();
        if (names.Length > 0)
            Add("2.5.29.17", Subject.Length == 0, new GeneralNames(names));
        if (Permitted.Length > 0 || Excluded.Length > 0)
            Add("2.5.29.30", true, Constraints());
        Add("2.5.29.14", false, new DerOctetString(keyId));
        if (Issuer is not null && !OmitAuthorityKeyId)
            Add("2.5.29.35", false, new AuthorityKeyIdentifier(Issuer.KeyId));
        foreach (var (oid, critical, value) in Extra)
            Add(oid, critical, value);
        return list;
    }

    // "dns:example.com", "email:example.com", "dn:CN=foo" or "ip:192.0.2.0/24".
    private NameConstraints Constraints()
    {
        static GeneralSubtree Subtree(string spec)
        {
            var (kind, value) = (spec[..spec.IndexOf(':')], spec[(spec.IndexOf(':') + 1)..]);
            if (kind == "dns")
                return new GeneralSubtree(new GeneralName(GeneralName.DnsName, value));
            if (kind == "email")
                return new GeneralSubtree(new GeneralName(GeneralName.Rfc822Name, value));
            if (kind == "dn")
                return new GeneralSubtree(new GeneralName(new X509Name(value)));
            var slash = value.IndexOf('/');
            var address = System.Net.IPAddress.Parse(value[..slash]).GetAddressBytes();
            var prefix = int.Parse(value[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            var mask = new byte[address.Length];
            for (var i = 0; i < prefix; i++)
                mask[i / 8] |= (byte)(0x80 >> (i % 8));
            return new GeneralSubtree(new GeneralName(GeneralName.IPAddress, new DerOctetString([.. address, .. mask])));
        }
        var permitted = Permitted.Length > 0 ? new GeneralSubtrees(Permitted.Select(Subtree).ToArray()) : null;
        var excluded = Excluded.Length > 0 ? new GeneralSubtrees(Excluded.Select(Subtree).ToArray()) : null;
        return new NameConstraints(permitted, excluded);
    }
}
