using System.Text;

namespace Apps.TrustStore.Certificates;

/// <summary>
/// Reads the CERTIFICATE blocks of a PEM file (<see href="https://www.rfc-editor.org/rfc/rfc7468#section-5.1">RFC 7468 §5.1</see>),
/// leaf first, as <c>openssl s_client -showcerts</c> or a server's fullchain.pem lists them.
/// </summary>
public static class PemCertificates
{
    /// <summary>The largest PEM text accepted.</summary>
    public const int MaxPemLength = 1024 * 1024;

    /// <summary>The most certificates read from one file.</summary>
    public const int MaxCertificates = 10;

    private const string Begin = "-----BEGIN CERTIFICATE-----";
    private const string End = "-----END CERTIFICATE-----";

    /// <summary>Returns the DER of each certificate; throws <see cref="CertificateFormatException"/> if there is none or one is damaged.</summary>
    public static IReadOnlyList<byte[]> Parse(string pem)
    {
        if (pem.Length > MaxPemLength)
            throw new CertificateFormatException($"the PEM text is larger than {MaxPemLength} bytes");
        var chain = new List<byte[]>();
        int at = 0;
        while (true)
        {
            int begin = pem.IndexOf(Begin, at, StringComparison.Ordinal);
            if (begin < 0) break;
            int end = pem.IndexOf(End, begin, StringComparison.Ordinal);
            if (end < 0)
                throw new CertificateFormatException($"certificate {chain.Count + 1} has no '{End}' line");
            if (chain.Count == MaxCertificates)
                throw new CertificateFormatException($"more than {MaxCertificates} certificates in one file");
            var body = new StringBuilder();
            foreach (char c in pem.AsSpan(begin + Begin.Length, end - begin - Begin.Length))
                if (!char.IsWhiteSpace(c)) body.Append(c);
            byte[] der;
            try
            {
                der = Convert.FromBase64String(body.ToString());
            }
            catch (FormatException)
            {
                throw new CertificateFormatException($"certificate {chain.Count + 1} is not valid base64");
            }
            CertificateInfo.Parse(der);
            chain.Add(der);
            at = end + End.Length;
        }
        if (chain.Count == 0)
            throw new CertificateFormatException($"no '{Begin}' block found");
        return chain;
    }

    /// <summary>Encodes DER certificates as PEM blocks.</summary>
    public static string Format(IEnumerable<byte[]> chain)
    {
        var sb = new StringBuilder();
        foreach (byte[] der in chain)
        {
            sb.Append(Begin).Append('\n');
            string b64 = Convert.ToBase64String(der);
            for (int i = 0; i < b64.Length; i += 64)
                sb.Append(b64.AsSpan(i, Math.Min(64, b64.Length - i))).Append('\n');
            sb.Append(End).Append('\n');
        }
        return sb.ToString();
    }
}
