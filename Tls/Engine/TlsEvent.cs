namespace Apps.Tls.Engine;

/// <summary>Something the engine observed while processing; drained with <see cref="TlsEngine.TryDequeueEvent"/>.</summary>
public abstract record TlsEvent;

/// <summary>The handshake finished; application data may flow in both directions.</summary>
public sealed record TlsHandshakeCompleted(TlsConnectionInfo Connection) : TlsEvent;

/// <summary>The peer sent an alert (a close_notify is reported as <see cref="TlsPeerClosed"/> as well).</summary>
public sealed record TlsAlertReceived(TlsAlert Alert) : TlsEvent;

/// <summary>The engine queued an alert for the peer.</summary>
public sealed record TlsAlertSent(TlsAlert Alert) : TlsEvent;

/// <summary>The peer sent close_notify: no more application data will arrive (RFC 8446 §6.1).</summary>
public sealed record TlsPeerClosed : TlsEvent;

/// <summary>The engine failed; no more data flows either way. The error says who is at fault.</summary>
public sealed record TlsFailed(TlsException Error) : TlsEvent;

/// <summary>Negotiated TLS protocol version.</summary>
public enum TlsVersion
{
    Tls12,
    Tls13,
}

/// <summary>What a completed handshake negotiated.</summary>
/// <param name="Version">TLS 1.2 or 1.3.</param>
/// <param name="CipherSuite">The IANA cipher suite number.</param>
/// <param name="CipherSuiteName">The IANA name, e.g. <c>TLS_AES_128_GCM_SHA256</c>.</param>
/// <param name="ApplicationProtocol">The ALPN protocol (RFC 7301), or null when none was negotiated.</param>
/// <param name="ServerName">The SNI host name the client sent (RFC 6066 §3), or null.</param>
/// <param name="PeerChain">The peer's certificates as DER, leaf first (empty for a server without client auth).</param>
/// <param name="Resumed">True when an earlier session was resumed (no certificate exchange took place).</param>
/// <param name="Verdict">On the client: the verifier's verdict on the server chain (null when resumed).</param>
public sealed record TlsConnectionInfo(
    TlsVersion Version,
    int CipherSuite,
    string CipherSuiteName,
    string? ApplicationProtocol,
    string? ServerName,
    IReadOnlyList<byte[]> PeerChain,
    bool Resumed,
    Verification.CertificateVerdict? Verdict);
