// RFC 6125 §6 host matching, SAN only: the subject CN is never consulted (§6.4.4; CABF §7.1.4.3
// makes it a copy of a SAN anyway). dNSName matching is case-insensitive on A-labels; a wildcard
// is only a whole left-most label and covers one label (§6.4.3); IP literals match only iPAddress
// entries, byte for byte (§6.2.1), never a dNSName and never a wildcard.
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace Apps.Tls.Verification;

internal static class HostNameMatcher
{
    private const int NamesShownInMessages = 5;

    /// <summary>Returns null when the leaf is valid for <paramref name="name"/>, else a NameMismatch.</summary>
    public static Rejection? Check(ParsedCertificate leaf, PeerName name)
    {
        foreach (var san in leaf.SubjectAltNames ?? [])
        {
            if (name.Address is { } address)
            {
                if (san.TagNo == GeneralName.IPAddress
                    && Asn1OctetString.GetInstance(san.Name).GetOctets().AsSpan().SequenceEqual(address))
                    return null;
            }
            else if (san.TagNo == GeneralName.DnsName
                     && DnsNames.MatchesPattern(DerIA5String.GetInstance(san.Name).GetString(), name.Text))
            {
                return null;
            }
        }
        if (name.IsAddress && HostNames(leaf).Contains(name.Text))
            return new Rejection(VerificationFailure.NameMismatch,
                $"certificate for {Describe(leaf)} is not valid for the IP address {name.Text} (it lists {name.Text} as a DNS name; addresses must be iPAddress entries)");
        return new Rejection(VerificationFailure.NameMismatch,
            $"certificate for {Describe(leaf)} is not valid for the name '{name.Text}' ({NamesClause(leaf)})");
    }

    /// <summary>What a person would call the certificate: its first host name, else its subject.</summary>
    public static string Describe(ParsedCertificate cert)
    {
        var names = HostNames(cert);
        if (names.Count > 0)
            return names[0];
        return cert.CommonNames.Count > 0 ? cert.CommonNames[0] : cert.SubjectText;
    }

    /// <summary>"it names a, b" / "it names no host"; capped so that a hostile certificate cannot flood a log line.</summary>
    private static string NamesClause(ParsedCertificate cert)
    {
        var names = HostNames(cert);
        if (names.Count == 0)
            return "it names no host in subjectAltName";
        var shown = string.Join(", ", names.Take(NamesShownInMessages));
        return names.Count > NamesShownInMessages
            ? $"it names {shown} and {names.Count - NamesShownInMessages} more"
            : $"it names {shown}";
    }

    /// <summary>The dNSName and iPAddress entries of the subjectAltName as text.</summary>
    public static IReadOnlyList<string> HostNames(ParsedCertificate cert)
    {
        var result = new List<string>();
        foreach (var san in cert.SubjectAltNames ?? [])
        {
            if (san.TagNo == GeneralName.DnsName)
                result.Add(DerIA5String.GetInstance(san.Name).GetString());
            else if (san.TagNo == GeneralName.IPAddress
                     && PeerName.AddressText(Asn1OctetString.GetInstance(san.Name).GetOctets()) is { } ip)
                result.Add(ip);
        }
        return result;
    }
}
