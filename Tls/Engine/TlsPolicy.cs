using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>
/// The one protocol policy every engine enforces: TLS 1.3 and 1.2 only, AEAD suites only, three groups,
/// modern signature schemes. Callers may narrow it (for tests and interop), never widen it.
/// </summary>
internal static class TlsPolicy
{
    /// <summary>RFC 8446 §B.4 suites, then RFC 5289/7905 ECDHE suites for TLS 1.2 (forward secret AEAD only).</summary>
    public static readonly int[] CipherSuites =
    [
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_AES_256_GCM_SHA384,
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    /// <summary>RFC 8446 §4.2.7 groups, in preference order.</summary>
    public static readonly int[] Groups = [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1];

    /// <summary>
    /// RFC 8446 §4.2.3 schemes we accept in CertificateVerify / ServerKeyExchange. rsa_pkcs1 is listed for
    /// TLS 1.2; BouncyCastle never uses it for a TLS 1.3 CertificateVerify (§4.4.3 forbids it there).
    /// </summary>
    public static readonly SignatureAndHashAlgorithm[] SignatureAlgorithms =
    [
        SignatureAndHashAlgorithm.ed25519,
        SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa),
        SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha384, SignatureAlgorithm.ecdsa),
        SignatureAndHashAlgorithm.rsa_pss_rsae_sha256,
        SignatureAndHashAlgorithm.rsa_pss_rsae_sha384,
        SignatureAndHashAlgorithm.rsa_pss_rsae_sha512,
        SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha256, SignatureAlgorithm.rsa),
        SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha384, SignatureAlgorithm.rsa),
        SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha512, SignatureAlgorithm.rsa),
    ];

    /// <summary>Largest handshake message we buffer (a certificate chain of ten 4 KiB certificates fits).</summary>
    public const int MaxHandshakeMessageSize = 64 * 1024;

    /// <summary>Longest certificate chain we accept from a peer.</summary>
    public const int MaxCertificateChainLength = 10;

    /// <summary>RFC 5246 §6.2.3 bound on TLSCiphertext.length (TLS 1.3 uses the smaller 2^14 + 256).</summary>
    public const int MaxCiphertextLength = (1 << 14) + 2048;

    public const int RecordHeaderLength = 5;

    public static ProtocolVersion[] Versions(TlsVersion? only) => only switch
    {
        TlsVersion.Tls13 => ProtocolVersion.TLSv13.Only(),
        TlsVersion.Tls12 => ProtocolVersion.TLSv12.Only(),
        _ => ProtocolVersion.TLSv13.DownTo(ProtocolVersion.TLSv12),
    };

    /// <summary>The policy's suites, narrowed to <paramref name="only"/> when given.</summary>
    public static int[] Narrow(int[] policy, IReadOnlyList<int>? only)
    {
        if (only is null || only.Count == 0)
        {
            return policy;
        }

        var result = new List<int>();
        foreach (var value in policy)
        {
            if (only.Contains(value))
            {
                result.Add(value);
            }
        }

        if (result.Count == 0)
        {
            throw new ArgumentException("none of the requested values is allowed by the TLS policy", nameof(only));
        }

        return [.. result];
    }

    public static TlsVersion ToVersion(ProtocolVersion version) =>
        TlsUtilities.IsTlsV13(version) ? TlsVersion.Tls13 : TlsVersion.Tls12;
}
