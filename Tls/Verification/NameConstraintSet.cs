// Read this first: RFC 5280 §4.2.1.10 (name constraints) and §6.1.3 (b)-(c), §6.1.4 (g).
// A CA's permitted and excluded subtrees apply to every certificate below it on the path (except
// self-issued intermediates): to the subject DN, to emailAddress attributes of the subject, and to
// every subjectAltName. Names of a type that has a permitted subtree must fall in one of them; no
// name may fall in an excluded subtree. Constraint types we cannot evaluate (otherName, URI, ...)
// reject any certificate that carries a name of that type (§4.2.1.10: "MUST be able to process").
// Every comparison is charged to a WorkBudget: many names times many constraints is a known
// denial-of-service (x509-limbo pathological::nc-dos-*).
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;

namespace Apps.Tls.Verification;

internal sealed class NameConstraintSet
{
    /// <summary>A cap on subtrees per certificate, far above what real CAs use.</summary>
    public const int MaxSubtrees = 1024;

    private readonly List<Subtree> _permitted;
    private readonly List<Subtree> _excluded;

    private NameConstraintSet(List<Subtree> permitted, List<Subtree> excluded)
    {
        _permitted = permitted;
        _excluded = excluded;
    }

    private sealed record Subtree(int Tag, string? Text, byte[]? Address, byte[]? Mask, Asn1Sequence? Rdns);

    /// <summary>One name of a certificate, as name constraints see it.</summary>
    private sealed record SubjectName(int Tag, string? Text, byte[]? Address, Asn1Sequence? Rdns);

    /// <summary>Parses the extension value; <paramref name="problem"/> says why it is unusable, if it is.</summary>
    public static NameConstraintSet? Parse(Asn1Object value, out string? problem)
    {
        problem = null;
        var sequence = Asn1Sequence.GetInstance(value);
        List<Subtree>? permitted = null, excluded = null;
        foreach (var element in sequence)
        {
            var tagged = Asn1TaggedObject.GetInstance(element);
            var subtrees = Asn1Sequence.GetInstance(tagged, false);
            // CABF §7.1.2.5.2 and RFC 5280: an empty list (or an extension with neither) says nothing.
            if (subtrees.Count == 0)
            {
                problem = "a subtree list is empty";
                return null;
            }
            if (subtrees.Count > MaxSubtrees)
            {
                problem = $"more than {MaxSubtrees} subtrees";
                return null;
            }
            var list = new List<Subtree>(subtrees.Count);
            foreach (var item in subtrees)
            {
                var subtree = ParseSubtree(GeneralSubtree.GetInstance(item), out problem);
                if (subtree is null)
                    return null;
                list.Add(subtree);
            }
            if (tagged.TagNo == 0 && permitted is null)
                permitted = list;
            else if (tagged.TagNo == 1 && excluded is null)
                excluded = list;
            else
            {
                problem = "unexpected field";
                return null;
            }
        }
        if (permitted is null && excluded is null)
        {
            problem = "neither permitted nor excluded subtrees are present";
            return null;
        }
        return new NameConstraintSet(permitted ?? [], excluded ?? []);
    }

    private static Subtree? ParseSubtree(GeneralSubtree subtree, out string? problem)
    {
        problem = null;
        // RFC 5280 §4.2.1.10: minimum MUST be zero and maximum MUST be absent.
        if (subtree.MinimumObject is { } min && min.Value.SignValue != 0 || subtree.MaximumObject is not null)
        {
            problem = "a subtree has minimum or maximum set";
            return null;
        }
        var name = subtree.Base;
        switch (name.TagNo)
        {
            case GeneralName.DnsName:
                var dns = DerIA5String.GetInstance(name.Name).GetString();
                if (dns.Length != 0 && !DnsNames.IsValid(dns, allowWildcard: false))
                {
                    problem = $"'{dns}' is not a valid dNSName subtree";
                    return null;
                }
                return new Subtree(name.TagNo, dns, null, null, null);
            case GeneralName.IPAddress:
                var octets = Asn1OctetString.GetInstance(name.Name).GetOctets();
                if (octets.Length is not (8 or 32) || !IsPrefixMask(octets.AsSpan(octets.Length / 2)))
                {
                    problem = "an iPAddress subtree is not an address and a contiguous mask (CIDR)";
                    return null;
                }
                return new Subtree(name.TagNo, null, octets[..(octets.Length / 2)], octets[(octets.Length / 2)..], null);
            case GeneralName.Rfc822Name:
                var mail = DerIA5String.GetInstance(name.Name).GetString();
                if (!IsValidMailboxConstraint(mail))
                {
                    problem = $"'{mail}' is not a valid rfc822Name subtree";
                    return null;
                }
                return new Subtree(name.TagNo, mail, null, null, null);
            case GeneralName.DirectoryName:
                return new Subtree(name.TagNo, null, null, null,
                    Asn1Sequence.GetInstance(X509Name.GetInstance(name.Name).ToAsn1Object()));
            default:
                // Kept so that certificates carrying such names are refused.
                return new Subtree(name.TagNo, null, null, null, null);
        }
    }

    private static bool IsPrefixMask(ReadOnlySpan<byte> mask)
    {
        var ended = false;
        foreach (var b in mask)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                var set = (b >> bit & 1) == 1;
                if (set && ended)
                    return false;
                if (!set)
                    ended = true;
            }
        }
        return true;
    }

    // RFC 5280 §4.2.1.10: a mailbox ("a@host"), a host ("host") or a domain (".host").
    private static bool IsValidMailboxConstraint(string text)
    {
        var at = text.IndexOf('@');
        if (at >= 0)
            return IsValidMailbox(text);
        var host = text.StartsWith('.') ? text[1..] : text;
        return DnsNames.IsValid(host, allowWildcard: false);
    }

    private static bool IsValidMailbox(string text)
    {
        var at = text.IndexOf('@');
        return at > 0 && at == text.LastIndexOf('@') && DnsNames.IsValid(text[(at + 1)..], allowWildcard: false)
            && text[..at].All(c => c is > ' ' and < (char)0x7F);
    }

    /// <summary>
    /// Checks every name of <paramref name="cert"/> against these constraints; returns the violation or null.
    /// </summary>
    public Rejection? Check(ParsedCertificate cert, string constrainingCa, WorkBudget budget)
    {
        var names = NamesOf(cert, out var malformed);
        if (malformed is not null)
            return new Rejection(VerificationFailure.Malformed, $"certificate '{cert.SubjectText}' {malformed}");
        foreach (var name in names)
        {
            if (!budget.TryCharge(WorkBudget.Kind.NameComparison, _permitted.Count + _excluded.Count + 1))
                return budget.Exhausted();
            var violation = CheckName(name);
            if (violation is null)
                continue;
            return new Rejection(VerificationFailure.NameConstraintViolation, IsUnsupported(name.Tag)
                ? $"certificate '{cert.SubjectText}' has a name {violation}, which the name constraints of '{constrainingCa}' cover but this verifier cannot check"
                : $"certificate '{cert.SubjectText}' has the name {violation}, which the name constraints of '{constrainingCa}' forbid");
        }
        return null;
    }

    private string? CheckName(SubjectName name)
    {
        var hasPermittedOfType = false;
        var permitted = false;
        foreach (var subtree in _permitted)
        {
            if (subtree.Tag != name.Tag)
                continue;
            hasPermittedOfType = true;
            if (!IsUnsupported(name.Tag) && Permits(subtree, name))
            {
                permitted = true;
                break;
            }
        }
        if (hasPermittedOfType && !permitted)
            return Show(name);
        foreach (var subtree in _excluded)
        {
            if (subtree.Tag == name.Tag && (IsUnsupported(name.Tag) || Excludes(subtree, name)))
                return Show(name);
        }
        return null;
    }

    private static bool IsUnsupported(int tag) =>
        tag is not (GeneralName.DnsName or GeneralName.IPAddress or GeneralName.Rfc822Name or GeneralName.DirectoryName);

    private static string Show(SubjectName name) => name.Tag switch
    {
        GeneralName.DnsName => $"'{name.Text}'",
        GeneralName.IPAddress => $"'{PeerName.AddressText(name.Address!)}'",
        GeneralName.Rfc822Name => $"<{name.Text}>",
        GeneralName.DirectoryName => $"'{X509Name.GetInstance(name.Rdns)}'",
        GeneralName.OtherName => "of type otherName",
        GeneralName.UniformResourceIdentifier => "of type URI",
        _ => $"of GeneralName type {name.Tag}",
    };

    private static bool Permits(Subtree subtree, SubjectName name) => name.Tag switch
    {
        // A wildcard SAN "*.X" is permitted only if every name it could match is: X lies in the subtree.
        GeneralName.DnsName => DnsNames.IsWithin(Base(name.Text!), subtree.Text!),
        GeneralName.IPAddress => InRange(subtree, name.Address!),
        GeneralName.Rfc822Name => MailboxWithin(name.Text!, subtree.Text!),
        GeneralName.DirectoryName => IsRdnPrefix(subtree.Rdns!, name.Rdns!),
        _ => false,
    };

    private static bool Excludes(Subtree subtree, SubjectName name)
    {
        switch (name.Tag)
        {
            case GeneralName.DnsName:
                var text = name.Text!;
                if (!DnsNames.IsWildcard(text))
                    return DnsNames.IsWithin(text, subtree.Text!);
                // "*.X" is excluded if any name it could match is: X in the subtree, or the subtree is one
                // label under X (x509-limbo rfc5280::nc::nc-forbids-dnsname-wildcard-san, CVE-2025-61727).
                var rest = Base(text);
                return DnsNames.IsWithin(rest, subtree.Text!)
                    || (DnsNames.IsWithin(subtree.Text!, rest) && DnsNames.LabelCount(subtree.Text!) == DnsNames.LabelCount(rest) + 1);
            case GeneralName.IPAddress:
                return InRange(subtree, name.Address!);
            case GeneralName.Rfc822Name:
                return MailboxWithin(name.Text!, subtree.Text!);
            case GeneralName.DirectoryName:
                return IsRdnPrefix(subtree.Rdns!, name.Rdns!);
            default:
                return true;
        }
    }

    private static string Base(string dns) => DnsNames.IsWildcard(dns) ? dns[2..] : dns;

    private static bool InRange(Subtree subtree, byte[] address)
    {
        if (address.Length != subtree.Address!.Length)
            return false;
        for (var i = 0; i < address.Length; i++)
        {
            if ((address[i] & subtree.Mask![i]) != (subtree.Address[i] & subtree.Mask[i]))
                return false;
        }
        return true;
    }

    // RFC 5280 §4.2.1.10: the local part is compared exactly; the host part case-insensitively.
    private static bool MailboxWithin(string mailbox, string constraint)
    {
        var at = mailbox.LastIndexOf('@');
        var host = mailbox[(at + 1)..];
        if (constraint.Contains('@'))
        {
            var cat = constraint.LastIndexOf('@');
            return mailbox[..at] == constraint[..cat]
                && host.Equals(constraint[(cat + 1)..], StringComparison.OrdinalIgnoreCase);
        }
        if (constraint.StartsWith('.'))
            return host.Length > constraint.Length - 1 && host.EndsWith(constraint, StringComparison.OrdinalIgnoreCase);
        return host.Equals(constraint, StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsRdnPrefix(Asn1Sequence prefix, Asn1Sequence name)
    {
        if (prefix.Count > name.Count)
            return false;
        for (var i = 0; i < prefix.Count; i++)
        {
            if (!prefix[i].GetDerEncoded().AsSpan().SequenceEqual(name[i].GetDerEncoded()))
                return false;
        }
        return true;
    }

    private static List<SubjectName> NamesOf(ParsedCertificate cert, out string? malformed)
    {
        malformed = null;
        var names = new List<SubjectName>();
        if (!cert.SubjectIsEmpty)
        {
            var rdns = Asn1Sequence.GetInstance(cert.Tbs.Subject.ToAsn1Object());
            names.Add(new SubjectName(GeneralName.DirectoryName, null, null, rdns));
            foreach (var email in cert.Tbs.Subject.GetValueList(PkcsObjectIdentifiers.Pkcs9AtEmailAddress))
                names.Add(new SubjectName(GeneralName.Rfc822Name, email, null, null));
        }
        foreach (var san in cert.SubjectAltNames ?? [])
        {
            switch (san.TagNo)
            {
                case GeneralName.DnsName:
                    var dns = DerIA5String.GetInstance(san.Name).GetString();
                    if (!DnsNames.IsValid(dns, allowWildcard: true))
                        malformed = $"has a malformed dNSName '{dns}'";
                    names.Add(new SubjectName(san.TagNo, dns, null, null));
                    break;
                case GeneralName.IPAddress:
                    var address = Asn1OctetString.GetInstance(san.Name).GetOctets();
                    if (address.Length is not (4 or 16))
                        malformed = "has a malformed iPAddress (not 4 or 16 bytes)";
                    names.Add(new SubjectName(san.TagNo, null, address, null));
                    break;
                case GeneralName.Rfc822Name:
                    var mail = DerIA5String.GetInstance(san.Name).GetString();
                    if (!IsValidMailbox(mail))
                        malformed = $"has a malformed rfc822Name '{mail}'";
                    names.Add(new SubjectName(san.TagNo, mail, null, null));
                    break;
                case GeneralName.DirectoryName:
                    names.Add(new SubjectName(san.TagNo, null, null,
                        Asn1Sequence.GetInstance(X509Name.GetInstance(san.Name).ToAsn1Object())));
                    break;
                default:
                    names.Add(new SubjectName(san.TagNo, null, null, null));
                    break;
            }
        }
        return names;
    }
}
