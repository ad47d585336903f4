using Apps.Tls.Engine;
using Apps.Tls.Verification;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.Conduit.Trust;

/// <summary>
/// How a client decides whether to trust a server: the strict verifier judges the chain against CA roots, then
/// the trust store's policy for the service (ca, tofu, pin) decides and records pins. Without a store only a
/// CA-verified chain is accepted.
/// </summary>
public sealed class ServerTrust
{
    /// <summary>Verifies chains (RFC 5280, RFC 6125); the system roots by default.</summary>
    public required IServerCertificateVerifier Verifier { get; init; }

    /// <summary>The pin store; null to accept CA-verified chains only.</summary>
    public PinStore? Store { get; init; }

    /// <summary>Which application asks (<c>xmpp-client</c>, <c>https</c>, ...): policies are set per service.</summary>
    public string Service { get; init; } = "conduit";

    /// <summary>Strict verification against the system roots, with no pinning.</summary>
    public static ServerTrust SystemRoots() => new() { Verifier = StrictCertificateVerifier.WithSystemRoots() };

    /// <summary>A decider for one connection to <paramref name="server"/>; a rejection is kept for the error message.</summary>
    internal Decision For(HostPort server, TimeProvider time) => new(this, server, time);

    internal sealed class Decision(ServerTrust trust, HostPort server, TimeProvider time)
    {
        /// <summary>Set when the trust store refused the key; its message names both fingerprints.</summary>
        public Rejected? Rejection { get; private set; }

        /// <summary>Set when the trust store accepted the key.</summary>
        public Accepted? Acceptance { get; private set; }

        public CertificateDecision Decide(IReadOnlyList<byte[]> chain, CertificateVerdict verdict)
        {
            if (trust.Store is null)
            {
                return CertificateDecision.Strict(chain, verdict);
            }

            var ca = verdict.IsVerified ? CaVerdict.Trusted : CaVerdict.Untrusted(verdict.Message);
            var decision = trust.Store.Check(new TrustRequest(trust.Service, server, chain, ca, time.GetUtcNow()));
            switch (decision)
            {
                case Accepted accepted:
                    Acceptance = accepted;
                    return CertificateDecision.Accepted;
                case Rejected rejected:
                    Rejection = rejected;
                    return CertificateDecision.Abort(rejected.Reason == RejectReason.NotCaVerified
                        ? CertificateDecision.AlertFor(verdict.Failure)
                        : TlsAlertDescription.BadCertificate);
                default:
                    return CertificateDecision.Abort(TlsAlertDescription.InternalError);
            }
        }
    }
}

/// <summary>The server's certificate is not trusted; the message says why and what to do (one line).</summary>
public sealed class ConduitTrustException : Transports.ConduitException
{
    public ConduitTrustException(string message, RejectReason? reason, Exception? inner = null) : base(message, inner) => Reason = reason;

    /// <summary>The trust store's reason, or null when CA verification alone refused the chain.</summary>
    public RejectReason? Reason { get; }
}
