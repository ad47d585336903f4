namespace Apps.Tls.Verification;

/// <summary>Object identifiers the verifier understands (RFC 5280 §4.2, RFC 6962 §3.3).</summary>
internal static class ExtensionOids
{
    public const string SubjectKeyIdentifier = "2.5.29.14";
    public const string KeyUsage = "2.5.29.15";
    public const string SubjectAlternativeName = "2.5.29.17";
    public const string IssuerAlternativeName = "2.5.29.18";
    public const string BasicConstraints = "2.5.29.19";
    public const string NameConstraints = "2.5.29.30";
    public const string CrlDistributionPoints = "2.5.29.31";
    public const string CertificatePolicies = "2.5.29.32";
    public const string AuthorityKeyIdentifier = "2.5.29.35";
    public const string PolicyConstraints = "2.5.29.36";
    public const string ExtendedKeyUsage = "2.5.29.37";
    public const string FreshestCrl = "2.5.29.46";
    public const string AuthorityInfoAccess = "1.3.6.1.5.5.7.1.1";
    public const string SubjectInfoAccess = "1.3.6.1.5.5.7.1.11";
    public const string CtPrecertificateScts = "1.3.6.1.4.1.11129.2.4.2";

    public const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    public const string AnyExtendedKeyUsage = "2.5.29.37.0";

    /// <summary>
    /// RFC 5280 §4.2: a critical extension we do not process makes the certificate unusable.
    /// Certificate policies count as processed because we validate with initial-policy-set
    /// anyPolicy and initial-explicit-policy false (RFC 5280 §6.1.1 (c), (f)), under which any
    /// policy is acceptable; policyConstraints, policyMappings and inhibitAnyPolicy could change
    /// that outcome, so when critical they are refused rather than silently ignored.
    /// </summary>
    public static bool IsRecognised(string oid) => oid switch
    {
        SubjectKeyIdentifier or KeyUsage or SubjectAlternativeName or BasicConstraints or NameConstraints
            or CertificatePolicies or AuthorityKeyIdentifier or ExtendedKeyUsage or AuthorityInfoAccess => true,
        _ => false,
    };

    /// <summary>The RFC 5280 name of an extension, or its OID.</summary>
    public static string Name(string oid) => oid switch
    {
        SubjectKeyIdentifier => "subjectKeyIdentifier",
        KeyUsage => "keyUsage",
        SubjectAlternativeName => "subjectAltName",
        IssuerAlternativeName => "issuerAltName",
        BasicConstraints => "basicConstraints",
        NameConstraints => "nameConstraints",
        CrlDistributionPoints => "cRLDistributionPoints",
        CertificatePolicies => "certificatePolicies",
        AuthorityKeyIdentifier => "authorityKeyIdentifier",
        PolicyConstraints => "policyConstraints",
        ExtendedKeyUsage => "extendedKeyUsage",
        AuthorityInfoAccess => "authorityInfoAccess",
        _ => oid,
    };

    public static string Describe(string ekuOid) => ekuOid switch
    {
        ServerAuth => "serverAuth",
        ClientAuth => "clientAuth",
        AnyExtendedKeyUsage => "anyExtendedKeyUsage",
        "1.3.6.1.5.5.7.3.3" => "codeSigning",
        "1.3.6.1.5.5.7.3.4" => "emailProtection",
        "1.3.6.1.5.5.7.3.8" => "timeStamping",
        "1.3.6.1.5.5.7.3.9" => "OCSPSigning",
        _ => ekuOid,
    };
}
