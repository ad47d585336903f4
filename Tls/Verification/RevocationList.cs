// Read this first: RFC 5280 §5 (CRL profile) and §6.3 (CRL validation).
// CRLs are never fetched: the caller hands over the ones it has (for example from a cache or a
// configuration file). A CRL applies to the certificates whose issuer name equals its issuer name;
// it must be signed by that issuer's key, the issuer's keyUsage (if present) must allow cRLSign,
// and it must carry a non-critical cRLNumber (§5.2.3). A CRL that applies but fails any of this is
// an error, not silently ignored (fail closed). Freshness (nextUpdate) is not enforced: a stale
// CRL still proves a revocation, and the absence of a CRL proves nothing. Delta CRLs, indirect
// CRLs and issuing distribution points are not processed: when critical they make the CRL unusable.
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace Apps.Tls.Verification;

internal sealed class RevocationList
{
    public const int MaxDerLength = 1024 * 1024;
    public const int MaxEntries = 100_000;

    private const string CrlNumber = "2.5.29.20";
    private const string DeltaCrlIndicator = "2.5.29.27";
    private const string IssuingDistributionPoint = "2.5.29.28";
    private const string CrlReason = "2.5.29.21";
    private const string InvalidityDate = "2.5.29.24";

    private readonly Dictionary<string, DateTime> _revoked = new(StringComparer.Ordinal);
    // Per request (a RevocationList lives for one verification): issuer identity → signature valid.
    private readonly Dictionary<string, bool> _signatureValid = new(StringComparer.Ordinal);

    private RevocationList(byte[] der, CertificateList crl)
    {
        Der = der;
        Crl = crl;
        IssuerDer = crl.Issuer.GetDerEncoded();
    }

    public byte[] Der { get; }
    public CertificateList Crl { get; }
    public byte[] IssuerDer { get; }

    /// <summary>Why this CRL cannot be used; null when it is well-formed.</summary>
    public string? Problem { get; private set; }

    /// <summary>Parses a DER CRL; throws <see cref="CertificateFormatException"/> when it is not one.</summary>
    public static RevocationList Parse(byte[] der)
    {
        if (der.Length is 0 or > MaxDerLength)
            throw new CertificateFormatException(VerificationFailure.Malformed, $"is empty or over {MaxDerLength} bytes");
        RevocationList list;
        try
        {
            var crl = CertificateList.GetInstance(Asn1Object.FromByteArray(der));
            if (!crl.GetDerEncoded().AsSpan().SequenceEqual(der))
                throw new CertificateFormatException(VerificationFailure.Malformed, "is not in canonical DER encoding");
            list = new RevocationList(der, crl);
            list.ReadFields();
        }
        catch (CertificateFormatException)
        {
            throw;
        }
        // BouncyCastle throws many exception types on hostile input (duplicate extensions included).
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CertificateFormatException(VerificationFailure.Malformed, "is not a valid CRL: " + e.Message);
        }
        return list;
    }

    private void ReadFields()
    {
        var tbs = Crl.TbsCertList;
        if (!Crl.SignatureAlgorithm.GetDerEncoded().AsSpan().SequenceEqual(tbs.Signature.GetDerEncoded()))
            Problem ??= "names two different signature algorithms (RFC 5280 §5.1.1.2)";
        var extensions = tbs.Extensions;
        var number = extensions?.GetExtension(new DerObjectIdentifier(CrlNumber));
        if (number is null)
            Problem ??= "has no cRLNumber (RFC 5280 §5.2.3)";
        else if (number.IsCritical)
            Problem ??= "marks cRLNumber critical (RFC 5280 §5.2.3)";
        foreach (var oid in extensions?.ExtensionOids ?? [])
        {
            var ext = extensions!.GetExtension(oid);
            if (oid.Id is DeltaCrlIndicator || (ext.IsCritical && oid.Id is not (CrlNumber or ExtensionOids.AuthorityKeyIdentifier)))
                Problem ??= $"has a {oid.Id} extension this verifier does not process (delta, indirect or partitioned CRLs)";
        }
        foreach (var entry in Crl.GetRevokedCertificateEnumeration())
        {
            if (_revoked.Count >= MaxEntries)
            {
                Problem ??= $"has more than {MaxEntries} entries";
                return;
            }
            foreach (var oid in entry.Extensions?.ExtensionOids ?? [])
            {
                if (entry.Extensions!.GetExtension(oid).IsCritical && oid.Id is not (CrlReason or InvalidityDate))
                    Problem ??= $"has an entry with critical extension {oid.Id}, which this verifier does not process";
            }
            _revoked.TryAdd(Convert.ToHexString(entry.UserCertificate.Value.ToByteArray()), entry.RevocationDate.ToDateTime().ToUniversalTime());
        }
    }

    /// <summary>When the certificate with this serial number was revoked; null if it is not listed.</summary>
    public DateTime? RevokedAt(DerInteger serial) =>
        _revoked.TryGetValue(Convert.ToHexString(serial.Value.ToByteArray()), out var at) ? at : null;

    /// <summary>
    /// RFC 5280 §6.3.3: checks <paramref name="cert"/> against this CRL, issued by <paramref name="issuer"/>.
    /// Returns the reason to refuse the path (revoked, or an unusable CRL), or null.
    /// </summary>
    public Rejection? Check(ParsedCertificate cert, ParsedCertificate issuer, WorkBudget budget)
    {
        var from = $"the revocation list from '{issuer.SubjectText}'";
        if (Problem is not null)
            return new Rejection(VerificationFailure.Malformed, $"{from} {Problem}; fix or remove it");
        // RFC 5280 §6.3.3 (f): a keyUsage that is present must allow cRLSign.
        if (issuer.KeyUsageBits is { } ku && (ku & KeyUsage.CrlSign) == 0)
            return new Rejection(VerificationFailure.KeyUsage, $"{from} is signed by a CA whose keyUsage lacks cRLSign");
        if (AlgorithmPolicy.CheckSignatureAlgorithm(Crl.SignatureAlgorithm) is { } weak)
            return weak with { Message = $"{from} {weak.Message}" };
        if (!_signatureValid.TryGetValue(issuer.Identity, out var valid))
        {
            if (!budget.TryCharge(WorkBudget.Kind.Signature))
                return budget.Exhausted();
            valid = SignatureCheck.Verify(Crl.SignatureAlgorithm, DerSlice.FirstElement(Der).Span, Crl.GetSignatureOctets(), issuer);
            _signatureValid[issuer.Identity] = valid;
        }
        if (!valid)
            return new Rejection(VerificationFailure.BadSignature, $"{from} is not signed by that CA's key");
        if (RevokedAt(cert.Tbs.SerialNumber) is { } at)
            return new Rejection(VerificationFailure.Revoked,
                $"certificate '{cert.SubjectText}' was revoked by '{issuer.SubjectText}' at {at:yyyy-MM-dd HH:mm:ss}Z; the server must get a new certificate");
        return null;
    }
}
