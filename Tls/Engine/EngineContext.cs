using Apps.Tls.Verification;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>
/// What one engine's BouncyCastle peer object reports back: queued events, the caller's current time
/// (set on every <see cref="TlsEngine.Process"/>), and why our own side aborted, if it did.
/// </summary>
internal sealed class EngineContext
{
    public Queue<TlsEvent> Events { get; } = new();

    public DateTimeOffset CurrentTime { get; set; }

    public CertificateVerdict? Verdict { get; set; }

    public TlsCertificateRejectedException? Rejection { get; set; }

    public TlsConnectionInfo? Connection { get; set; }

    public string? PeerDescription { get; set; }

    /// <summary>RFC 8449: most application bytes per record the peer accepts from us.</summary>
    public int SendPlaintextLimit { get; set; } = RecordSizeLimit.MaxPlaintext;

    /// <summary>A server chose its credentials for this handshake: its signature (TLS 1.3, or 1.2's ServerKeyExchange)
    /// is made in the same step, so what remains is a MAC check, or in TLS 1.2 one key agreement.</summary>
    public bool CredentialsChosen { get; set; }

    /// <summary>A TLS 1.3 server's max_fragment_length code honouring a small client limit, or -1.</summary>
    public short FragmentCode { get; set; } = -1;

    public void AlertRaised(short level, short description) =>
        Events.Enqueue(new TlsAlertSent(new TlsAlert((TlsAlertLevel)level, (TlsAlertDescription)description)));

    public void AlertReceived(short level, short description) =>
        Events.Enqueue(new TlsAlertReceived(new TlsAlert((TlsAlertLevel)level, (TlsAlertDescription)description)));

    /// <summary>Builds the connection summary from BouncyCastle's negotiated parameters.</summary>
    public TlsConnectionInfo Complete(TlsContext context, string? serverName)
    {
        var parameters = context.SecurityParameters;
        var peer = parameters.PeerCertificate;
        var chain = new List<byte[]>();
        if (peer is not null)
        {
            for (var i = 0; i < peer.Length; i++)
            {
                chain.Add(peer.GetCertificateAt(i).GetEncoded());
            }
        }

        var info = new TlsConnectionInfo(
            TlsPolicy.ToVersion(parameters.NegotiatedVersion),
            parameters.CipherSuite,
            CipherSuiteNames.Name(parameters.CipherSuite),
            parameters.ApplicationProtocol?.GetUtf8Decoding(),
            serverName,
            chain,
            parameters.IsResumedSession,
            Verdict);
        Connection = info;
        Events.Enqueue(new TlsHandshakeCompleted(info));
        return info;
    }
}

/// <summary>IANA names of the suites the policy allows.</summary>
internal static class CipherSuiteNames
{
    public static string Name(int suite) => suite switch
    {
        CipherSuite.TLS_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        CipherSuite.TLS_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        _ => $"0x{suite:X4}",
    };
}
