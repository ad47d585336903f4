// The set of certificates verification may end at (RFC 5280 §6.1.1 (d)). Anchors are indexed by
// subject so that path building finds candidate issuers by exact DER name match. Reading the
// system bundle from disk is an I/O shell's job: Storage/SystemTrustStore.cs.
namespace Apps.Tls.Verification;

/// <summary>An immutable set of trusted root certificates.</summary>
public sealed class TrustAnchors
{
    private const string PemBegin = "-----BEGIN CERTIFICATE-----";
    private const string PemEnd = "-----END CERTIFICATE-----";

    private readonly Dictionary<string, List<ParsedCertificate>> _bySubject = new(StringComparer.Ordinal);
    private readonly HashSet<string> _fingerprints = new(StringComparer.Ordinal);

    private TrustAnchors(IEnumerable<byte[]> certificates)
    {
        foreach (var der in certificates)
        {
            ParsedCertificate cert;
            try
            {
                cert = ParsedCertificate.Parse(der);
            }
            catch (CertificateFormatException)
            {
                Unusable++;
                continue;
            }
            if (!_fingerprints.Add(cert.Fingerprint))
                continue;
            var key = Convert.ToHexString(cert.SubjectDer);
            if (!_bySubject.TryGetValue(key, out var list))
                _bySubject[key] = list = [];
            list.Add(cert);
            Count++;
        }
    }

    /// <summary>How many distinct anchors the set holds.</summary>
    public int Count { get; }

    /// <summary>How many given certificates could not be parsed and were left out.</summary>
    public int Unusable { get; }

    /// <summary>Anchors from DER certificates.</summary>
    public static TrustAnchors FromCertificates(IEnumerable<byte[]> derCertificates) => new(derCertificates);

    /// <summary>Anchors from PEM text holding any number of CERTIFICATE blocks.</summary>
    public static TrustAnchors FromPem(string pem) => new(ReadPemCertificates(pem));

    /// <summary>The DER certificates of every CERTIFICATE block in <paramref name="pem"/>.</summary>
    public static IReadOnlyList<byte[]> ReadPemCertificates(string pem)
    {
        var result = new List<byte[]>();
        var at = 0;
        while ((at = pem.IndexOf(PemBegin, at, StringComparison.Ordinal)) >= 0)
        {
            var start = at + PemBegin.Length;
            var end = pem.IndexOf(PemEnd, start, StringComparison.Ordinal);
            if (end < 0)
                break;
            try
            {
                result.Add(Convert.FromBase64String(pem[start..end]));
            }
            catch (FormatException)
            {
                // A damaged block is skipped; the rest of the bundle stays usable.
            }
            at = end + PemEnd.Length;
        }
        return result;
    }

    internal IReadOnlyList<ParsedCertificate> WithSubject(byte[] subjectDer) =>
        _bySubject.TryGetValue(Convert.ToHexString(subjectDer), out var list) ? list : [];

    internal bool Contains(ParsedCertificate cert) => _fingerprints.Contains(cert.Fingerprint);
}
