using Apps.Tls.Verification;

namespace Apps.Limbo;

/// <summary>Runs one x509-limbo case through <see cref="StrictCertificateVerifier"/>.</summary>
internal static class LimboRunner
{
    public enum Outcome { Pass, Fail, Skip }

    public sealed record Result(LimboCase Case, Outcome Outcome, string Detail);

    public static Result Run(LimboCase c, IReadOnlyDictionary<string, string> skippedFeatures, DateTimeOffset now)
    {
        foreach (var feature in c.Features)
        {
            if (skippedFeatures.TryGetValue(feature, out var reason))
                return new Result(c, Outcome.Skip, $"feature {feature}: {reason}");
        }
        CertificateVerdict verdict;
        try
        {
            verdict = Verify(c, now);
        }
        catch (Exception e)
        {
            // An exception escaping the verifier is a bug whatever the case expects.
            return new Result(c, Outcome.Fail, $"CRASH {e}");
        }
        var succeeded = verdict.IsVerified;
        var got = succeeded ? "SUCCESS" : $"FAILURE {verdict.Failure}: {verdict.Message}";
        var expected = c.ExpectSuccess ? "SUCCESS" : "FAILURE";
        // The suite marks pairs of cases that no verifier can both pass (RFC 5280 versus the Web PKI profile).
        var conflict = c.ConflictsWith.Count > 0 ? $" (conflicts with {string.Join(", ", c.ConflictsWith)})" : "";
        return new Result(c, succeeded == c.ExpectSuccess ? Outcome.Pass : Outcome.Fail, $"expected {expected}, got {got}{conflict}");
    }

    private static CertificateVerdict Verify(LimboCase c, DateTimeOffset now)
    {
        var anchors = TrustAnchors.FromPem(string.Join("\n", c.TrustedCerts));
        var chain = new List<byte[]>();
        chain.AddRange(TrustAnchors.ReadPemCertificates(c.PeerCertificate));
        foreach (var pem in c.UntrustedIntermediates)
            chain.AddRange(TrustAnchors.ReadPemCertificates(pem));

        PeerName? name = null;
        if (c.PeerNameKind is "DNS" or "IP")
        {
            if (!PeerName.TryParse(c.PeerNameValue!, out name, out var error))
                return new CertificateVerdict(VerificationFailure.NameMismatch, error!, []);
        }
        // RFC822 peer names (S/MIME) are not a TLS concern: such cases check the chain only.
        var purpose = c.Kind == "CLIENT" || c.ExtendedKeyUsage.Contains("clientAuth") ? KeyPurpose.ClientAuth : KeyPurpose.ServerAuth;
        var verifier = new StrictCertificateVerifier(anchors);
        return verifier.Verify(new VerificationRequest(chain, name, c.ValidationTime ?? now)
        {
            Purpose = purpose,
            MaxIntermediates = c.MaxChainDepth,
            RevocationLists = c.Crls.Select(CrlDer).ToList(),
        });
    }

    private static byte[] CrlDer(string pem)
    {
        const string begin = "-----BEGIN X509 CRL-----", end = "-----END X509 CRL-----";
        var start = pem.IndexOf(begin, StringComparison.Ordinal) + begin.Length;
        return Convert.FromBase64String(pem[start..pem.IndexOf(end, StringComparison.Ordinal)]);
    }
}
