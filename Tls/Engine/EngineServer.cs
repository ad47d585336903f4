using Apps.Tls.Credentials;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Engine;

/// <summary>BouncyCastle's server peer: picks the credential by SNI, signs with it, caches sessions.</summary>
internal sealed class EngineServer : DefaultTlsServer
{
    private readonly TlsServerOptions _options;
    private readonly EngineContext _engine;
    private ServerCredential _credential;
    private string? _serverName;

    public EngineServer(TlsServerOptions options, EngineContext engine)
        : base(options.Crypto)
    {
        _options = options;
        _engine = engine;
        _credential = options.Credentials.Default;
    }

    protected override ProtocolVersion[] GetSupportedVersions() => TlsPolicy.Versions(_options.OnlyVersion);

    protected override int[] GetSupportedCipherSuites() =>
        TlsUtilities.GetSupportedCipherSuites(Crypto, TlsPolicy.Narrow(TlsPolicy.CipherSuites, _options.CipherSuites));

    public override int[] GetSupportedGroups() => TlsPolicy.Narrow(TlsPolicy.Groups, _options.Groups);

    protected override IList<ProtocolName>? GetProtocolNames() => EngineClient.ProtocolNames(_options.ApplicationProtocols);

    public override void ProcessClientExtensions(IDictionary<int, byte[]> clientExtensions)
    {
        base.ProcessClientExtensions(clientExtensions);

        // RFC 6066 §3: at most one host_name; pick the certificate for it, or the default one.
        var names = TlsExtensionsUtilities.GetServerNameExtensionClient(clientExtensions);
        if (names is null)
        {
            return;
        }

        foreach (var name in names)
        {
            if (name.NameType == NameType.host_name)
            {
                _serverName = System.Text.Encoding.ASCII.GetString(name.NameData);
                _credential = _options.Credentials.Select(_serverName);
                break;
            }
        }
    }

    /// <summary>In TLS 1.2 the suite names the certificate's key type; offer only suites our key can sign for.</summary>
    protected override bool IsSelectableCipherSuite(int cipherSuite, int availCurveBits, int availFiniteFieldBits, IList<short> sigAlgs) =>
        base.IsSelectableCipherSuite(cipherSuite, availCurveBits, availFiniteFieldBits, sigAlgs)
        && _credential.CanServe(TlsUtilities.GetKeyExchangeAlgorithm(cipherSuite));

    public override TlsCredentials GetCredentials() => _credential.CreateSigner(m_context, (BcTlsCrypto)Crypto);

    public override TlsSession? GetSessionToResume(byte[] sessionID) =>
        _options.SessionCache?.Find(Convert.ToHexString(sessionID), _engine.CurrentTime);

    /// <summary>RFC 5246 §7.4.1.3: an empty session_id means the session will not be cached.</summary>
    public override byte[]? GetNewSessionID() =>
        _options.SessionCache is null ? null : m_context.NonceGenerator.GenerateNonce(32);

    public override int GetMaxHandshakeMessageSize() => TlsPolicy.MaxHandshakeMessageSize;

    public override int GetMaxCertificateChainLength() => TlsPolicy.MaxCertificateChainLength;

    public override bool RequiresExtendedMasterSecret() => true;

    public override void NotifyAlertRaised(short alertLevel, short alertDescription, string message, Exception cause) =>
        _engine.AlertRaised(alertLevel, alertDescription);

    public override void NotifyAlertReceived(short alertLevel, short alertDescription) =>
        _engine.AlertReceived(alertLevel, alertDescription);

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        var info = _engine.Complete(m_context, _serverName);
        var session = m_context.Session;
        if (_options.SessionCache is { } cache && info.Version == TlsVersion.Tls12 && !info.Resumed
            && session is { IsResumable: true } && session.SessionID is { Length: > 0 } id)
        {
            cache.Store(Convert.ToHexString(id), session, _engine.CurrentTime);
        }
    }
}
