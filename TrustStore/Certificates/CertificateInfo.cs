using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.X509;

namespace Apps.TrustStore.Certificates;

/// <summary>
/// What a person wants to see of a certificate, read from its DER with BouncyCastle:
/// names, validity, SANs and the SPKI fingerprint. No path validation is done here;
/// that is the TLS engine's job.
/// </summary>
public sealed record CertificateInfo(
    SpkiFingerprint Spki,
    string Subject,
    string Issuer,
    string SerialNumber,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    IReadOnlyList<string> SubjectAltNames)
{
    /// <summary>The largest DER certificate accepted (real ones are a few KiB).</summary>
    public const int MaxDerLength = 64 * 1024;

    /// <summary>The most SANs kept for display; the rest are counted, not stored.</summary>
    public const int MaxSubjectAltNames = 200;

    /// <summary>Parses a DER certificate; throws <see cref="CertificateFormatException"/> if it is not one.</summary>
    public static CertificateInfo Parse(ReadOnlySpan<byte> der)
    {
        if (der.Length == 0 || der.Length > MaxDerLength)
            throw new CertificateFormatException($"a certificate is 1 to {MaxDerLength} bytes of DER, got {der.Length}");
        X509Certificate cert;
        try
        {
            cert = new X509Certificate(X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(der.ToArray())));
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or Asn1Exception or FormatException or InvalidOperationException)
        {
            throw new CertificateFormatException($"the certificate is not valid DER X.509 ({e.Message})", e);
        }
        byte[] spki = cert.CertificateStructure.SubjectPublicKeyInfo.GetDerEncoded();
        return new CertificateInfo(
            SpkiFingerprint.OfSubjectPublicKeyInfo(spki),
            cert.SubjectDN.ToString(),
            cert.IssuerDN.ToString(),
            cert.SerialNumber.ToString(16),
            new DateTimeOffset(DateTime.SpecifyKind(cert.NotBefore, DateTimeKind.Utc)),
            new DateTimeOffset(DateTime.SpecifyKind(cert.NotAfter, DateTimeKind.Utc)),
            ReadSubjectAltNames(cert));
    }

    /// <summary>Whether <paramref name="now"/> lies within notBefore..notAfter (RFC 5280 §4.1.2.5).</summary>
    public bool IsValidAt(DateTimeOffset now) => now >= NotBefore && now <= NotAfter;

    // RFC 5280 §4.2.1.6: dNSName and iPAddress are the names TLS clients match.
    private static List<string> ReadSubjectAltNames(X509Certificate cert)
    {
        var names = new List<string>();
        Asn1OctetString? ext = cert.GetExtensionValue(X509Extensions.SubjectAlternativeName);
        if (ext is null) return names;
        GeneralNames general;
        try
        {
            general = GeneralNames.GetInstance(Asn1Object.FromByteArray(ext.GetOctets()));
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidCastException or Asn1Exception)
        {
            throw new CertificateFormatException($"the certificate's subjectAltName extension is malformed ({e.Message})", e);
        }
        foreach (GeneralName name in general.GetNames())
        {
            if (names.Count == MaxSubjectAltNames) break;
            switch (name.TagNo)
            {
                case GeneralName.DnsName:
                    names.Add("DNS:" + DerIA5String.GetInstance(name.Name).GetString());
                    break;
                case GeneralName.IPAddress:
                    byte[] ip = Asn1OctetString.GetInstance(name.Name).GetOctets();
                    names.Add("IP:" + (ip.Length is 4 or 16 ? new System.Net.IPAddress(ip).ToString() : Convert.ToHexString(ip)));
                    break;
                case GeneralName.Rfc822Name:
                    names.Add("email:" + DerIA5String.GetInstance(name.Name).GetString());
                    break;
                case GeneralName.UniformResourceIdentifier:
                    names.Add("URI:" + DerIA5String.GetInstance(name.Name).GetString());
                    break;
                default:
                    names.Add($"other({name.TagNo})");
                    break;
            }
        }
        return names;
    }
}

/// <summary>Bytes that should be a certificate are not one. The fault lies with whoever supplied them.</summary>
public sealed class CertificateFormatException : Exception
{
    /// <summary>Creates the exception with a one-line reason.</summary>
    public CertificateFormatException(string message, Exception? inner = null) : base(message, inner) { }
}
