using Apps.Tls.Credentials;
using Apps.Tls.Verification;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Engine;

/// <summary>Settings shared by client and server engines. Build one per configuration and reuse it for
/// every connection: the crypto provider is created once here.</summary>
public abstract class TlsOptions
{
    private BcTlsCrypto? _crypto;

    /// <summary>Where every random byte comes from (in production, Fortuna's <see cref="SecureRandom"/> adapter).</summary>
    public required SecureRandom Random { get; init; }

    /// <summary>ALPN protocol names (RFC 7301): the client's offer, or the server's preference order.</summary>
    public IReadOnlyList<string> ApplicationProtocols { get; init; } = [];

    /// <summary>Restrict to one version (tests, interop); null allows TLS 1.3 and 1.2.</summary>
    public TlsVersion? OnlyVersion { get; init; }

    /// <summary>Narrow the policy's cipher suites (IANA numbers); null or empty keeps them all.</summary>
    public IReadOnlyList<int>? CipherSuites { get; init; }

    /// <summary>Narrow the policy's groups (IANA numbers: 29 X25519, 23 P-256, 24 P-384); null keeps all.</summary>
    public IReadOnlyList<int>? Groups { get; init; }

    /// <summary>Where the I/O shell (<c>TlsConnection</c>) logs handshakes and failures; the engine itself never logs.</summary>
    public Microsoft.Extensions.Logging.ILogger? Logger { get; init; }

    /// <summary>Bounded cache of resumable sessions; null disables resumption.</summary>
    public TlsSessionCache? SessionCache { get; init; }

    /// <summary>Seal records with .NET's hardware-accelerated AES-GCM and ChaCha20-Poly1305 instead of
    /// BouncyCastle's own (the handshake stays with BouncyCastle). On by default.</summary>
    public bool UsePlatformAead { get; init; } = true;

    /// <summary>Do the handshake's elliptic-curve arithmetic with the platform (OpenSSL): ECDHE on X25519, P-256 and
    /// P-384, and the base point multiplication of our ECDSA signatures. Private keys are still drawn from
    /// <see cref="Random"/> and ECDSA nonces still follow RFC 6979; BouncyCastle keeps the protocol. On by default.</summary>
    public bool UsePlatformHandshake { get; init; } = true;

    /// <summary>Tests only: a record_size_limit to advertise instead of the protocol maximum (RFC 8449). The
    /// engine does not enforce it on what it receives; it exists to drive a server's answer to small limits.</summary>
    internal int? AdvertisedRecordSizeLimit { get; init; }

    internal BcTlsCrypto Crypto => _crypto ??= UsePlatformAead || UsePlatformHandshake
        ? new PlatformTlsCrypto(Random, UsePlatformAead, UsePlatformHandshake)
        : new BcTlsCrypto(Random);
}

/// <summary>Client settings: whom we talk to and how its certificate is judged.</summary>
public sealed class TlsClientOptions : TlsOptions
{
    /// <summary>The DNS name (sent as SNI, RFC 6066 §3) or IP literal (not sent) the certificate must match.</summary>
    public required string ServerName { get; init; }

    /// <summary>Verifies the server's chain for <see cref="ServerName"/> (RFC 5280, RFC 6125).</summary>
    public required IServerCertificateVerifier Verifier { get; init; }

    /// <summary>Decides on the verdict; the default accepts only verified chains.</summary>
    public ServerCertificateDecider Decide { get; init; } = CertificateDecision.Strict;
}

/// <summary>Server settings: which certificates to present.</summary>
public sealed class TlsServerOptions : TlsOptions
{
    /// <summary>Certificates and keys, chosen by the client's SNI; the first is the default.</summary>
    public required ServerCredentialSet Credentials { get; init; }

    /// <summary>Keys for TLS 1.2 session tickets (RFC 5077); null issues none. Share one instance per server.</summary>
    public SessionTicketKeys? TicketKeys { get; init; }
}
