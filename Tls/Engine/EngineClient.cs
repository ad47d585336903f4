using System.Net;
using System.Text;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>BouncyCastle's client peer, configured from <see cref="TlsClientOptions"/> and the policy.</summary>
internal sealed class EngineClient : DefaultTlsClient
{
    private readonly TlsClientOptions _options;
    private readonly EngineContext _engine;

    public EngineClient(TlsClientOptions options, EngineContext engine)
        : base(options.Crypto)
    {
        _options = options;
        _engine = engine;
    }

    protected override ProtocolVersion[] GetSupportedVersions() => TlsPolicy.Versions(_options.OnlyVersion);

    protected override int[] GetSupportedCipherSuites() =>
        TlsUtilities.GetSupportedCipherSuites(Crypto, TlsPolicy.Narrow(TlsPolicy.CipherSuites, _options.CipherSuites));

    protected override IList<int> GetSupportedGroups(IList<int> namedGroupRoles) =>
        TlsPolicy.Narrow(TlsPolicy.Groups, _options.Groups);

    protected override IList<SignatureAndHashAlgorithm> GetSupportedSignatureAlgorithms() =>
        TlsPolicy.SignatureAlgorithms;

    protected override IList<ProtocolName>? GetProtocolNames() => ProtocolNames(_options.ApplicationProtocols);

    /// <summary>RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName."</summary>
    protected override IList<ServerName>? GetSniServerNames() =>
        IPAddress.TryParse(_options.ServerName, out _)
            ? null
            : [new ServerName(NameType.host_name, Encoding.ASCII.GetBytes(_options.ServerName.TrimEnd('.')))];

    public override TlsSession? GetSessionToResume() => _options.SessionCache?.Find(_options.ServerName, _engine.CurrentTime);

    public override TlsAuthentication GetAuthentication() => new ServerCertificateCheck(_options, _engine);

    public override int GetMaxHandshakeMessageSize() => TlsPolicy.MaxHandshakeMessageSize;

    public override int GetMaxCertificateChainLength() => TlsPolicy.MaxCertificateChainLength;

    /// <summary>RFC 7627: without the extended master secret a TLS 1.2 session is open to the triple handshake.</summary>
    public override bool RequiresExtendedMasterSecret() => true;

    /// <summary>Certificate signature algorithms are the verifier's business (it rejects SHA-1 and MD5 itself).</summary>
    public override bool ShouldCheckSigAlgOfPeerCerts() => false;

    public override void NotifyAlertRaised(short alertLevel, short alertDescription, string message, Exception cause) =>
        _engine.AlertRaised(alertLevel, alertDescription);

    public override void NotifyAlertReceived(short alertLevel, short alertDescription) =>
        _engine.AlertReceived(alertLevel, alertDescription);

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        var info = _engine.Complete(m_context, GetSniServerNames() is null ? null : _options.ServerName);
        var session = m_context.Session;
        if (_options.SessionCache is { } cache && info.Version == TlsVersion.Tls12 && session is { IsResumable: true })
        {
            cache.Store(_options.ServerName, session, _engine.CurrentTime);
        }
    }

    internal static IList<ProtocolName>? ProtocolNames(IReadOnlyList<string> names)
    {
        if (names.Count == 0)
        {
            return null;
        }

        var list = new List<ProtocolName>(names.Count);
        foreach (var name in names)
        {
            list.Add(ProtocolName.AsUtf8Encoding(name));
        }

        return list;
    }
}
