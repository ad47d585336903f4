// Read this first: RFC 5280 §4.1 (certificate fields) and §4.2 (extensions).
// A ParsedCertificate is the verifier's view of one DER certificate. Parsing fails only when the
// certificate cannot take part in a path at all (bad DER, duplicate extensions); every other defect
// (unknown critical extension, bad serial, weak key, malformed extension value...) is recorded in
// Defects and reported only if the certificate is actually used, so that an unrelated bad
// intermediate or root never spoils a good path (x509-limbo "unknown-critical-extension-unrelated-*").
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;

namespace Apps.Tls.Verification;

internal sealed class ParsedCertificate
{
    /// <summary>Hard limit on one certificate's size: real ones are a few KiB.</summary>
    public const int MaxDerLength = 64 * 1024;

    private readonly List<Rejection> _defects = [];
    private readonly List<Rejection> _issuanceDefects = [];

    private ParsedCertificate(byte[] der, X509CertificateStructure structure)
    {
        Der = der;
        Structure = structure;
        Tbs = structure.TbsCertificate;
        SubjectDer = Tbs.Subject.GetDerEncoded();
        IssuerDer = Tbs.Issuer.GetDerEncoded();
        SpkiDer = Tbs.SubjectPublicKeyInfo.GetDerEncoded();
        IsSelfIssued = SubjectDer.AsSpan().SequenceEqual(IssuerDer);
        _publicKey = new Lazy<AsymmetricKeyParameter?>(() => AlgorithmPolicy.CreateKey(Tbs.SubjectPublicKeyInfo),
            LazyThreadSafetyMode.PublicationOnly);
        _platformKey = new Lazy<System.Security.Cryptography.AsymmetricAlgorithm?>(() => SignatureCheck.ImportPlatformKey(this),
            LazyThreadSafetyMode.ExecutionAndPublication);
        Fingerprint = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(der));
        Identity = Convert.ToHexString(SubjectDer) + "/" + Convert.ToHexString(SpkiDer);
        NotBefore = Tbs.StartDate.ToDateTime().ToUniversalTime();
        NotAfter = Tbs.EndDate.ToDateTime().ToUniversalTime();
    }

    public byte[] Der { get; }

    /// <summary>The TBSCertificate exactly as received (the bytes the issuer signed).</summary>
    public ReadOnlyMemory<byte> TbsBytes => DerSlice.FirstElement(Der);


    public X509CertificateStructure Structure { get; }
    public TbsCertificateStructure Tbs { get; }
    public byte[] SubjectDer { get; }
    public byte[] IssuerDer { get; }
    public byte[] SpkiDer { get; }
    public bool IsSelfIssued { get; }
    /// <summary>Subject and key together: RFC 4158 §2.4 treats two certificates with both equal as one CA.</summary>
    public string Identity { get; }
    public DateTime NotBefore { get; }
    public DateTime NotAfter { get; }

    // Anchors are shared between verifications on many threads: build the key at most once, safely.
    private readonly Lazy<AsymmetricKeyParameter?> _publicKey;

    /// <summary>The subject's key, built on first use; null when it is not a valid key.</summary>
    public AsymmetricKeyParameter? PublicKey => _publicKey.Value;

    // The same key for .NET (OpenSSL), imported once: OpenSSL 3's key decoding costs more than a
    // signature check, and anchors are reused by every verification.
    private readonly Lazy<System.Security.Cryptography.AsymmetricAlgorithm?> _platformKey;

    /// <summary>The subject's ECDSA or RSA key as a .NET object; null for other key types or invalid keys.</summary>
    /// <remarks>Not thread-safe to use: callers hold <see cref="PlatformKeyLock"/>.</remarks>
    public System.Security.Cryptography.AsymmetricAlgorithm? PlatformKey => _platformKey.Value;

    /// <summary>Serialises use of <see cref="PlatformKey"/> between threads.</summary>
    public object PlatformKeyLock { get; } = new();

    /// <summary>True for an RSA subject key (checked without building the key).</summary>
    public bool HasRsaKey => Tbs.SubjectPublicKeyInfo.Algorithm.Algorithm.Id is "1.2.840.113549.1.1.1" or "1.2.840.113549.1.1.10";

    /// <summary>Problems with this certificate that make it unusable in any role.</summary>
    public IReadOnlyList<Rejection> Defects => _defects;

    /// <summary>
    /// Encoding rules (version, serial number) that bind issued certificates but not trust anchors:
    /// anchors are trusted by configuration and some long-lived roots predate the rules.
    /// </summary>
    public IReadOnlyList<Rejection> IssuanceDefects => _issuanceDefects;

    public bool HasBasicConstraints { get; private set; }
    public bool BasicConstraintsCritical { get; private set; }
    public bool IsCa { get; private set; }
    public int? PathLenConstraint { get; private set; }
    /// <summary>keyUsage bits as BouncyCastle's <see cref="KeyUsage"/> constants; null when absent.</summary>
    public int? KeyUsageBits { get; private set; }
    /// <summary>extendedKeyUsage purposes; null when absent.</summary>
    public IReadOnlyList<string>? ExtendedKeyUsages { get; private set; }
    public bool ExtendedKeyUsageCritical { get; private set; }
    /// <summary>subjectAltName entries; null when absent.</summary>
    public IReadOnlyList<GeneralName>? SubjectAltNames { get; private set; }
    public bool SubjectAltNameCritical { get; private set; }
    public NameConstraintSet? NameConstraints { get; private set; }
    public bool HasNameConstraints { get; private set; }
    public byte[]? SubjectKeyIdentifier { get; private set; }
    public byte[]? AuthorityKeyIdentifier { get; private set; }
    public bool HasAuthorityKeyIdentifier { get; private set; }
    public bool AuthorityKeyIdentifierHasIssuerOrSerial { get; private set; }

    public bool SubjectIsEmpty => Asn1Sequence.GetInstance(Tbs.Subject.ToAsn1Object()).Count == 0;

    /// <summary>The subject DN as people read it, e.g. <c>CN=R3, O=Let's Encrypt, C=US</c>.</summary>
    public string SubjectText => SubjectIsEmpty ? "(empty subject)" : Tbs.Subject.ToString();

    /// <summary>The subject's common names (never used for host matching, RFC 6125 §6.4.4).</summary>
    public IReadOnlyList<string> CommonNames => [.. Tbs.Subject.GetValueList(X509Name.CN)];

    /// <summary>The certificate's SHA-256 over DER, in hex, for identity checks and caches.</summary>
    public string Fingerprint { get; }

    /// <summary>Parses one DER certificate; throws <see cref="CertificateFormatException"/> when it is unusable.</summary>
    public static ParsedCertificate Parse(byte[] der)
    {
        if (der.Length == 0)
            throw new CertificateFormatException(VerificationFailure.Malformed, "is empty");
        if (der.Length > MaxDerLength)
            throw new CertificateFormatException(VerificationFailure.TooComplex,
                $"is {der.Length} bytes long, over the {MaxDerLength}-byte limit");
        ParsedCertificate cert;
        try
        {
            var outer = Asn1Sequence.GetInstance(Asn1Object.FromByteArray(der));
            if (outer.Count != 3 || outer[0] is not Asn1Sequence tbs)
                throw new CertificateFormatException(VerificationFailure.Malformed, "is not an X.509 certificate");
            // BouncyCastle refuses duplicate extensions with a generic error: find them first (RFC 5280 §4.2).
            RejectDuplicateExtensions(tbs);
            var structure = X509CertificateStructure.GetInstance(outer);
            // X.690 DER only. BouncyCastle verifies the signature over a DER re-encoding of the
            // TBSCertificate, so a BER variant (e.g. TRUE as 0x01) would verify as if unchanged.
            if (!structure.GetDerEncoded().AsSpan().SequenceEqual(der))
                throw new CertificateFormatException(VerificationFailure.Malformed, "is not in canonical DER encoding");
            cert = new ParsedCertificate(der, structure);
        }
        catch (CertificateFormatException)
        {
            throw;
        }
        // BouncyCastle's parsers throw many exception types on hostile input (even
        // NullReferenceException); every one of them means the bytes are malformed.
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CertificateFormatException(VerificationFailure.Malformed, "is not valid DER: " + e.Message);
        }

        try
        {
            cert.ReadFields();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            cert.AddDefect(VerificationFailure.Malformed, "has a malformed field: " + e.Message);
        }
        return cert;
    }

    private static void RejectDuplicateExtensions(Asn1Sequence tbs)
    {
        foreach (var element in tbs)
        {
            if (element is not Asn1TaggedObject { TagNo: 3 } tagged)
                continue;
            var extensions = Asn1Sequence.GetInstance(tagged.GetExplicitBaseObject());
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var ext in extensions)
            {
                var oid = DerObjectIdentifier.GetInstance(Asn1Sequence.GetInstance(ext)[0]).Id;
                if (!seen.Add(oid))
                    throw new CertificateFormatException(VerificationFailure.DuplicateExtension,
                        $"contains extension {oid} twice (RFC 5280 §4.2 forbids this)");
            }
        }
    }

    internal void AddDefect(VerificationFailure failure, string message) => _defects.Add(new Rejection(failure, message));

    private void ReadFields()
    {
        // RFC 5280 §4.1.1.2: the outer and inner signature algorithms must be identical.
        if (!Structure.SignatureAlgorithm.GetDerEncoded().AsSpan().SequenceEqual(Tbs.Signature.GetDerEncoded()))
            AddDefect(VerificationFailure.Malformed, "names two different signature algorithms (RFC 5280 §4.1.1.2)");
        // DER: a signature or key BIT STRING has whole octets (X.690 §11.2); stray pad bits are malleability.
        if (Structure.Signature.PadBits != 0 || Tbs.SubjectPublicKeyInfo.PublicKey.PadBits != 0)
            AddDefect(VerificationFailure.Malformed, "has a signature or key that is not a whole number of octets");
        if (Tbs.Version != 3)
            _issuanceDefects.Add(new Rejection(VerificationFailure.Malformed, $"is X.509 version {Tbs.Version}; only version 3 is accepted"));
        // RFC 5280 §4.1.2.2: positive, at most 20 octets.
        var serial = Tbs.SerialNumber.Value;
        if (serial.SignValue <= 0)
            _issuanceDefects.Add(new Rejection(VerificationFailure.Malformed, "has a zero or negative serial number (RFC 5280 §4.1.2.2)"));
        else if (Tbs.SerialNumber.GetEncoded().Length - 2 > 20)
            _issuanceDefects.Add(new Rejection(VerificationFailure.Malformed, "has a serial number longer than 20 octets (RFC 5280 §4.1.2.2)"));
        if (Asn1Sequence.GetInstance(Tbs.Issuer.ToAsn1Object()).Count == 0)
            AddDefect(VerificationFailure.Malformed, "has an empty issuer name (RFC 5280 §4.1.2.4)");

        ReadPublicKey();
        var extensions = Tbs.Extensions;
        if (extensions is null)
            return;
        foreach (var oid in extensions.ExtensionOids)
        {
            var ext = extensions.GetExtension(oid);
            if (ext.IsCritical && !ExtensionOids.IsRecognised(oid.Id))
                AddDefect(VerificationFailure.UnknownCriticalExtension,
                    $"has a critical {ExtensionOids.Name(oid.Id)} extension that this verifier does not process (RFC 5280 §4.2)");
            try
            {
                ReadExtension(oid.Id, ext);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                AddDefect(VerificationFailure.Malformed, $"has a malformed {ExtensionOids.Name(oid.Id)} extension");
            }
        }
    }

    private void ReadPublicKey()
    {
        var rejection = AlgorithmPolicy.CheckSubjectPublicKey(Tbs.SubjectPublicKeyInfo);
        if (rejection is not null)
            _defects.Add(rejection);
    }

    private void ReadExtension(string oid, X509Extension ext)
    {
        Asn1Object Value() => X509Extension.ConvertValueToObject(ext);
        switch (oid)
        {
            case ExtensionOids.BasicConstraints:
                var bc = BasicConstraints.GetInstance(Value());
                HasBasicConstraints = true;
                BasicConstraintsCritical = ext.IsCritical;
                IsCa = bc.IsCA();
                if (bc.PathLenConstraint is { } pathLen)
                {
                    if (!IsCa)
                        AddDefect(VerificationFailure.Malformed, "has a pathLenConstraint without cA=TRUE (RFC 5280 §4.2.1.9)");
                    PathLenConstraint = pathLen.BitLength > 16 ? int.MaxValue : pathLen.IntValue;
                }
                break;
            case ExtensionOids.KeyUsage:
                var bits = DerBitString.GetInstance(Value());
                KeyUsageBits = bits.IntValue;
                if (KeyUsageBits == 0)
                    AddDefect(VerificationFailure.Malformed, "has a keyUsage extension with no bits set (RFC 5280 §4.2.1.3)");
                break;
            case ExtensionOids.ExtendedKeyUsage:
                var eku = Asn1Sequence.GetInstance(Value());
                var usages = new List<string>(eku.Count);
                foreach (var usage in eku)
                    usages.Add(DerObjectIdentifier.GetInstance(usage).Id);
                if (usages.Count == 0)
                    AddDefect(VerificationFailure.Malformed, "has an empty extendedKeyUsage extension (RFC 5280 §4.2.1.12)");
                ExtendedKeyUsages = usages;
                ExtendedKeyUsageCritical = ext.IsCritical;
                break;
            case ExtensionOids.SubjectAlternativeName:
                var names = GeneralNames.GetInstance(Value()).GetNames();
                if (names.Length == 0)
                    AddDefect(VerificationFailure.Malformed, "has an empty subjectAltName extension (RFC 5280 §4.2.1.6)");
                SubjectAltNames = names;
                SubjectAltNameCritical = ext.IsCritical;
                break;
            case ExtensionOids.NameConstraints:
                HasNameConstraints = true;
                var parsed = NameConstraintSet.Parse(Value(), out var problem);
                if (problem is not null)
                    AddDefect(VerificationFailure.Malformed, "has malformed name constraints: " + problem);
                NameConstraints = parsed;
                break;
            case ExtensionOids.SubjectKeyIdentifier:
                if (ext.IsCritical)
                    AddDefect(VerificationFailure.Malformed, "marks subjectKeyIdentifier critical (RFC 5280 §4.2.1.2)");
                SubjectKeyIdentifier = Asn1OctetString.GetInstance(Value()).GetOctets();
                break;
            case ExtensionOids.AuthorityKeyIdentifier:
                if (ext.IsCritical)
                    AddDefect(VerificationFailure.Malformed, "marks authorityKeyIdentifier critical (RFC 5280 §4.2.1.1)");
                var aki = Org.BouncyCastle.Asn1.X509.AuthorityKeyIdentifier.GetInstance(Value());
                HasAuthorityKeyIdentifier = true;
                AuthorityKeyIdentifier = aki.KeyIdentifier?.GetOctets();
                AuthorityKeyIdentifierHasIssuerOrSerial = aki.AuthorityCertIssuer is not null || aki.AuthorityCertSerialNumber is not null;
                break;
            case ExtensionOids.AuthorityInfoAccess:
                if (ext.IsCritical)
                    AddDefect(VerificationFailure.Malformed, "marks authorityInfoAccess critical (RFC 5280 §4.2.2.1)");
                var aia = Asn1Sequence.GetInstance(Value());
                if (aia.Count == 0)
                    AddDefect(VerificationFailure.Malformed, "has an empty authorityInfoAccess extension (RFC 5280 §4.2.2.1)");
                foreach (var description in aia)
                    AccessDescription.GetInstance(description);
                break;
            case ExtensionOids.PolicyConstraints:
                if (!ext.IsCritical)
                    AddDefect(VerificationFailure.Malformed, "has a non-critical policyConstraints extension (RFC 5280 §4.2.1.11)");
                break;
        }
    }
}
