// The rules a certificate must meet in the role it plays on a path: end entity (the server's own
// certificate), intermediate CA, or trust anchor. Sources: RFC 5280 §4.2 and §6.1, tightened where
// the CA/Browser Forum Baseline Requirements (§7.1.2) and rustls-webpki are stricter, as
// ../design.md explains. Each rule returns one precise reason.
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace Apps.Tls.Verification;

internal static class CertificateProfile
{
    /// <summary>RFC 5280 §4.1.2.5: both bounds are inclusive; time is compared at whole seconds, as encoded.</summary>
    public static Rejection? CheckValidity(ParsedCertificate cert, DateTime now, string who, string renewal)
    {
        if (now < cert.NotBefore)
            return new Rejection(VerificationFailure.NotYetValid,
                $"{who} is not valid before {Show(cert.NotBefore)} (now {Show(now)}); check this machine's clock");
        if (now > cert.NotAfter)
            return new Rejection(VerificationFailure.Expired,
                $"{who} expired at {Show(cert.NotAfter)} (now {Show(now)}); {renewal}");
        return null;
    }

    private static string Show(DateTime time) => time.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Rules for the server's own certificate.</summary>
    public static Rejection? CheckEndEntity(ParsedCertificate leaf, KeyPurpose purpose, DateTime now)
    {
        var who = $"certificate for {HostNameMatcher.Describe(leaf)}";
        if (leaf.Defects.Concat(leaf.IssuanceDefects).FirstOrDefault() is { } defect)
            return defect with { Message = $"{who} {defect.Message}" };
        if (CheckValidity(leaf, now, who, "the server must renew it") is { } validity)
            return validity;
        // CABF §7.1.2.7.8: cA MUST be FALSE in a subscriber certificate (webpki: CaUsedAsEndEntity).
        if (leaf.IsCa)
            return new Rejection(VerificationFailure.LeafIsCa,
                $"{who} is a CA certificate (basicConstraints cA=TRUE) and cannot identify a server");
        if (leaf.KeyUsageBits is { } ku)
        {
            if ((ku & KeyUsage.KeyCertSign) != 0)
                return new Rejection(VerificationFailure.KeyUsage,
                    $"{who} asserts keyCertSign without being a CA (RFC 5280 §4.2.1.9)");
            var rsa = leaf.HasRsaKey;
            if ((ku & KeyUsage.DigitalSignature) == 0 && !(rsa && (ku & KeyUsage.KeyEncipherment) != 0))
                return new Rejection(VerificationFailure.KeyUsage,
                    $"{who} does not allow digitalSignature in its keyUsage, so it cannot authenticate a TLS handshake");
        }
        if (CheckPurpose(leaf, purpose) is { } eku)
            return new Rejection(VerificationFailure.ExtendedKeyUsage, $"{who} {eku}");
        if (leaf.HasNameConstraints)
            return new Rejection(VerificationFailure.Malformed,
                $"{who} has name constraints but is not a CA (RFC 5280 §4.2.1.10)");
        // RFC 5280 §4.2.1.1: keyIdentifier in every certificate that is not self-signed.
        if (!leaf.IsSelfIssued && leaf.AuthorityKeyIdentifier is null)
            return new Rejection(VerificationFailure.Malformed, $"{who} has no authorityKeyIdentifier (RFC 5280 §4.2.1.1)");
        if (leaf.AuthorityKeyIdentifierHasIssuerOrSerial)
            return new Rejection(VerificationFailure.Malformed,
                $"{who} has an authorityKeyIdentifier with issuer and serial fields (CABF §7.1.2.7.7)");
        return CheckSubjectNames(leaf, who);
    }

    // RFC 5280 §4.2.1.6 and CABF §7.1.2.7.12 / §7.1.4.3.
    private static Rejection? CheckSubjectNames(ParsedCertificate leaf, string who)
    {
        if (leaf.SubjectIsEmpty && leaf.SubjectAltNames is null)
            return new Rejection(VerificationFailure.Malformed, $"{who} has neither a subject nor a subjectAltName");
        if (leaf.SubjectAltNames is null)
            return null;
        if (leaf.SubjectIsEmpty != leaf.SubjectAltNameCritical)
            return new Rejection(VerificationFailure.Malformed, leaf.SubjectIsEmpty
                ? $"{who} has an empty subject and a non-critical subjectAltName (RFC 5280 §4.2.1.6)"
                : $"{who} marks subjectAltName critical although its subject is not empty (CABF §7.1.2.7.12)");
        var dnsNames = new HashSet<string>(StringComparer.Ordinal);
        var addresses = new HashSet<string>(StringComparer.Ordinal);
        foreach (var san in leaf.SubjectAltNames)
        {
            switch (san.TagNo)
            {
                case GeneralName.DnsName:
                    var dns = DerIA5String.GetInstance(san.Name).GetString();
                    if (!DnsNames.IsValid(dns, allowWildcard: true))
                        return new Rejection(VerificationFailure.Malformed,
                            $"{who} has a malformed dNSName '{Printable(dns)}' in subjectAltName (RFC 5280 §4.2.1.6)");
                    dnsNames.Add(dns);
                    break;
                case GeneralName.IPAddress:
                    var text = PeerName.AddressText(Asn1OctetString.GetInstance(san.Name).GetOctets());
                    if (text is null)
                        return new Rejection(VerificationFailure.Malformed,
                            $"{who} has a malformed iPAddress in subjectAltName (not 4 or 16 bytes)");
                    addresses.Add(text);
                    break;
            }
        }
        // CABF §7.1.4.3: a commonName, if present, is a character-for-character copy of a SAN entry.
        // We never match on it (RFC 6125 §6.4.4). A CN absent from the SANs is tolerated (RFC 5280
        // allows it), but a CN naming one of the SAN identities in another spelling (case, U-label,
        // hex or zero-padded IPv4, non-RFC 5952 IPv6) is a sign of mis-issuance and is refused.
        foreach (var cn in leaf.CommonNames)
        {
            if (dnsNames.Contains(cn) || addresses.Contains(cn))
                continue;
            if (SpellsDifferently(cn, dnsNames, addresses))
                return new Rejection(VerificationFailure.Malformed,
                    $"{who} has a subject commonName '{Printable(cn)}' that spells one of its subjectAltNames differently (CABF §7.1.4.3)");
        }
        return null;
    }

    private static bool SpellsDifferently(string cn, HashSet<string> dnsNames, HashSet<string> addresses)
    {
        if (dnsNames.Any(d => d.Equals(cn, StringComparison.OrdinalIgnoreCase)))
            return true;
        if (System.Net.IPAddress.TryParse(cn, out var ip) && addresses.Contains(ip.ToString()))
            return true;
        // A host name in U-labels: SAN dNSNames are ASCII, so it can never be the required copy.
        if (cn.Any(c => c > 0x7F) && cn.Contains('.') && !cn.Contains(' '))
            return true;
        try
        {
            var ascii = new System.Globalization.IdnMapping().GetAscii(cn);
            return dnsNames.Any(d => d.Equals(ascii, StringComparison.OrdinalIgnoreCase));
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Rules for a CA certificate on the path: an intermediate or the trust anchor.</summary>
    public static Rejection? CheckIssuer(ParsedCertificate ca, bool isAnchor, KeyPurpose purpose, DateTime now)
    {
        var who = isAnchor ? $"trusted root '{ca.SubjectText}'" : $"intermediate CA '{ca.SubjectText}'";
        if (ca.Defects.Concat(isAnchor ? [] : ca.IssuanceDefects).FirstOrDefault() is { } defect)
            return defect with { Message = $"{who} {defect.Message}" };
        var renewal = isAnchor ? "update this machine's trusted roots" : "the server must send a current intermediate";
        if (CheckValidity(ca, now, who, renewal) is { } validity)
            return validity;
        // RFC 5280 §4.2.1.9 and §6.1.4 (k).
        if (!ca.HasBasicConstraints || !ca.IsCa)
            return new Rejection(VerificationFailure.NotACa, $"{who} is not a CA (no basicConstraints cA=TRUE)");
        if (!ca.BasicConstraintsCritical)
            return new Rejection(VerificationFailure.Malformed, $"{who} marks basicConstraints non-critical (RFC 5280 §4.2.1.9)");
        if (ca.KeyUsageBits is { } ku && (ku & KeyUsage.KeyCertSign) == 0)
            return new Rejection(VerificationFailure.KeyUsage, $"{who} may not sign certificates (keyUsage lacks keyCertSign)");
        if (ca.SubjectIsEmpty)
            return new Rejection(VerificationFailure.Malformed, $"{who} has an empty subject (RFC 5280 §4.1.2.6)");
        // RFC 5280 §4.2.1.2: every CA certificate carries a subjectKeyIdentifier.
        if (ca.SubjectKeyIdentifier is null)
            return new Rejection(VerificationFailure.Malformed, $"{who} has no subjectKeyIdentifier (RFC 5280 §4.2.1.2)");
        if (CheckAuthorityKeyIdentifier(ca, isAnchor, who) is { } aki)
            return aki;
        // rustls-webpki: an intermediate that states usages must include ours; anchors are not checked.
        if (!isAnchor && CheckPurpose(ca, purpose) is { } eku)
            return new Rejection(VerificationFailure.ExtendedKeyUsage, $"{who} {eku}");
        return null;
    }

    private static Rejection? CheckAuthorityKeyIdentifier(ParsedCertificate ca, bool isAnchor, string who)
    {
        if (!ca.HasAuthorityKeyIdentifier)
        {
            // Anchors are trusted as configured, whoever issued them (x509-limbo cve::cve-2024-0567).
            return ca.IsSelfIssued || isAnchor ? null
                : new Rejection(VerificationFailure.Malformed, $"{who} has no authorityKeyIdentifier (RFC 5280 §4.2.1.1)");
        }
        if (ca.AuthorityKeyIdentifier is null)
            return new Rejection(VerificationFailure.Malformed, $"{who} has an authorityKeyIdentifier without keyIdentifier (CABF §7.1.2.1.3)");
        if (ca.AuthorityKeyIdentifierHasIssuerOrSerial)
            return new Rejection(VerificationFailure.Malformed,
                $"{who} has an authorityKeyIdentifier with issuer and serial fields (CABF §7.1.2.1.3)");
        if (ca.IsSelfIssued && ca.SubjectKeyIdentifier is { } ski
            && !ski.AsSpan().SequenceEqual(ca.AuthorityKeyIdentifier) && SignatureCheck.IsSignedBy(ca, ca))
            return new Rejection(VerificationFailure.Malformed,
                $"{who} is self-signed but its authorityKeyIdentifier differs from its subjectKeyIdentifier");
        return null;
    }

    /// <summary>
    /// RFC 5280 §4.2.1.12: absent means any purpose. When present it must list the purpose;
    /// like rustls-webpki, anyExtendedKeyUsage does not stand in for serverAuth.
    /// </summary>
    private static string? CheckPurpose(ParsedCertificate cert, KeyPurpose purpose)
    {
        if (cert.ExtendedKeyUsages is not { } usages)
            return null;
        var wanted = purpose == KeyPurpose.ServerAuth ? ExtensionOids.ServerAuth : ExtensionOids.ClientAuth;
        if (usages.Contains(wanted))
            return null;
        var listed = string.Join(", ", usages.Take(5).Select(ExtensionOids.Describe));
        return $"is not allowed for {ExtensionOids.Describe(wanted)} (its extendedKeyUsage lists {listed})";
    }

    /// <summary>Keeps hostile names from putting control characters into messages and logs.</summary>
    internal static string Printable(string text, int maxLength = 100)
    {
        var clean = new string(text.Select(c => char.IsControl(c) ? '?' : c).Take(maxLength).ToArray());
        return text.Length > maxLength ? clean + "..." : clean;
    }
}
