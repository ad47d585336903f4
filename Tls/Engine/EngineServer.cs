using Apps.Tls.Credentials;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Apps.Tls.Engine;

/// <summary>BouncyCastle's server peer: picks the credential by SNI, signs with it, resumes TLS 1.2 sessions
/// from its session cache or from RFC 5077 tickets.</summary>
internal sealed class EngineServer : DefaultTlsServer
{
    private readonly TlsServerOptions _options;
    private readonly EngineContext _engine;
    private ServerCredential _credential;
    private string? _serverName;
    private bool _clientTakesTickets;
    private SessionParameters? _ticketSession;

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
        var names = TlsExtensionsUtilities.GetServerNameExtensionClient(clientExtensions) ?? [];
        foreach (var name in names)
        {
            if (name.NameType == NameType.host_name)
            {
                _serverName = System.Text.Encoding.ASCII.GetString(name.NameData);
                _credential = _options.Credentials.Select(_serverName);
                break;
            }
        }

        // RFC 5077 §3.2: a client that can take tickets sends the extension, empty or with a ticket.
        if (_options.TicketKeys is { } keys && !TlsUtilities.IsTlsV13(m_context.SecurityParameters.NegotiatedVersion)
            && TlsUtilities.GetExtensionData(clientExtensions, ExtensionType.session_ticket) is { } ticket)
        {
            _clientTakesTickets = true;
            _ticketSession = ticket.Length == 0 ? null : OpenTicket(keys, ticket);
        }
    }

    /// <summary>The session inside a ticket, when the ticket is ours, alive, and fits this ClientHello.</summary>
    private SessionParameters? OpenTicket(SessionTicketKeys keys, byte[] ticket)
    {
        var now = _engine.CurrentTime;
        var plain = keys.Open(ticket, now);
        var state = plain is null ? null : SessionTicketState.TryDecode(plain);
        if (plain is not null)
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(plain);
        }

        // Resume only what a full handshake now would agree to: same version, a suite both still allow,
        // the extended master secret (RFC 7627 §5.3), the same SNI (RFC 6066 §3) and the same ALPN result.
        if (state is null || now >= state.IssuedAt + keys.TicketLifetime
            || state.ProtocolVersion != ProtocolVersion.TLSv12.FullVersion || !state.ExtendedMasterSecret
            || !Array.Exists(m_offeredCipherSuites, s => s == state.CipherSuite)
            || !Array.Exists(GetCipherSuites(), s => s == state.CipherSuite)
            || !string.Equals(state.ServerName, _serverName, StringComparison.OrdinalIgnoreCase)
            || !ExpectedProtocol().AsSpan().SequenceEqual(state.ApplicationProtocol))
        {
            return null;
        }

        var extensions = new Dictionary<int, byte[]>();
        if (state.ApplicationProtocol is { } alpn)
        {
            TlsExtensionsUtilities.AddAlpnExtensionServer(extensions, ProtocolName.AsRawBytes(alpn));
        }

        return new SessionParameters.Builder()
            .SetNegotiatedVersion(ProtocolVersion.TLSv12)
            .SetCipherSuite(state.CipherSuite)
            .SetExtendedMasterSecret(true)
            .SetMasterSecret(Crypto.CreateSecret(state.MasterSecret))
            .SetServerExtensions(extensions)
            .Build();
    }

    /// <summary>RFC 7301 §3.2 with the server's preference: the protocol a full handshake would select.</summary>
    private byte[]? ExpectedProtocol()
    {
        if (m_clientProtocolNames is null || GetProtocolNames() is not { } ours)
        {
            return null;
        }

        foreach (var name in ours)
        {
            if (m_clientProtocolNames.Contains(name))
            {
                return name.GetBytes();
            }
        }

        return null;
    }

    /// <summary>In TLS 1.2 the suite names the certificate's key type; offer only suites our key can sign for.</summary>
    protected override bool IsSelectableCipherSuite(int cipherSuite, int availCurveBits, int availFiniteFieldBits, IList<short> sigAlgs) =>
        base.IsSelectableCipherSuite(cipherSuite, availCurveBits, availFiniteFieldBits, sigAlgs)
        && _credential.CanServe(TlsUtilities.GetKeyExchangeAlgorithm(cipherSuite));

    public override TlsCredentials GetCredentials()
    {
        _engine.CredentialsChosen = true;
        return _credential.CreateSigner(m_context, (BcTlsCrypto)Crypto, Crypto is PlatformTlsCrypto { PlatformHandshake: true });
    }

    /// <summary>RFC 5077 §3.4: a client presenting a ticket sends a session ID, and the server that accepts the
    /// ticket echoes it. BouncyCastle recognises resumption by that ID, so a ticket without one is not used.</summary>
    public override TlsSession? GetSessionToResume(byte[] sessionID)
    {
        if (_ticketSession is not null && sessionID.Length > 0)
        {
            return TlsUtilities.ImportSession(sessionID, _ticketSession);
        }

        return _options.SessionCache?.Find(Convert.ToHexString(sessionID), _engine.CurrentTime);
    }

    /// <summary>RFC 5246 §7.4.1.3: an empty session_id means the session will not be cached; with a ticket
    /// the client holds the state, so nothing is cached here either (RFC 5077 §3.4).</summary>
    public override byte[]? GetNewSessionID() =>
        _options.SessionCache is null || _clientTakesTickets ? null : m_context.NonceGenerator.GenerateNonce(32);

    /// <summary>RFC 5077 §3.2: an empty SessionTicket extension in ServerHello promises a NewSessionTicket.</summary>
    public override IDictionary<int, byte[]> GetServerExtensions()
    {
        var extensions = base.GetServerExtensions();
        if (_clientTakesTickets)
        {
            extensions[ExtensionType.session_ticket] = TlsUtilities.EmptyBytes;
        }

        return extensions;
    }

    /// <summary>BouncyCastle sends no NewSessionTicket in an abbreviated handshake, so a resumed ServerHello must
    /// not promise one, even when the stored session's extensions hold the promise of the first handshake.</summary>
    public override void GetServerExtensionsForConnection(IDictionary<int, byte[]> serverExtensions)
    {
        base.GetServerExtensionsForConnection(serverExtensions);
        if (m_context.SecurityParameters.IsResumedSession)
        {
            serverExtensions.Remove(ExtensionType.session_ticket);
        }

        AnswerRecordSizeLimit(serverExtensions);
    }

    /// <summary>
    /// RFC 8449 §4: honour the client's record_size_limit and advertise ours. In TLS 1.2 our only protected
    /// records besides application data are Finished and alerts, all far under 64 bytes, so cutting the
    /// application data is enough. In TLS 1.3 our encrypted handshake flight must fit too: we shrink every
    /// record in both directions to a power of two BouncyCastle can produce and advertise that size, or,
    /// below 512 bytes, leave the extension unanswered (not negotiated, §4).
    /// </summary>
    private void AnswerRecordSizeLimit(IDictionary<int, byte[]> serverExtensions)
    {
        var limit = TlsExtensionsUtilities.GetRecordSizeLimitExtension(m_clientExtensions);
        if (limit < 0)
        {
            return;
        }

        var tls13 = TlsUtilities.IsTlsV13(m_context.SecurityParameters.NegotiatedVersion);
        var send = RecordSizeLimit.SendLimit(limit, tls13);
        var advertised = RecordSizeLimit.Advertised(tls13);
        if (tls13 && send < RecordSizeLimit.MaxPlaintext)
        {
            var code = RecordSizeLimit.FragmentCode(send);
            if (code < 0)
            {
                return;
            }

            send = 1 << (8 + code);
            advertised = send + 1;
            _engine.FragmentCode = code;
        }

        // RFC 8449 §5: a server that negotiates record_size_limit does not also answer max_fragment_length.
        serverExtensions.Remove(ExtensionType.max_fragment_length);
        TlsExtensionsUtilities.AddRecordSizeLimitExtension(serverExtensions, advertised);
        _engine.SendPlaintextLimit = send;
    }

    /// <summary>RFC 5077 §3.3: the session state sealed under our current ticket key.</summary>
    public override NewSessionTicket GetNewSessionTicket()
    {
        var keys = _options.TicketKeys!;
        var parameters = m_context.SecurityParameters;
        var now = _engine.CurrentTime;
        var secret = Crypto.AdoptSecret(parameters.MasterSecret).Extract();
        var state = new SessionTicketState(
            parameters.NegotiatedVersion.FullVersion, parameters.CipherSuite, parameters.IsExtendedMasterSecret, now,
            secret, _serverName, parameters.ApplicationProtocol?.GetBytes()).Encode();
        var ticket = keys.Seal(state, now);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(state);
        return new NewSessionTicket((long)keys.TicketLifetime.TotalSeconds, ticket);
    }

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
