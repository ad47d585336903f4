using System.Net;
using System.Text;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>BouncyCastle's client peer, configured from <see cref="TlsClientOptions"/> and the policy.</summary>
internal sealed class EngineClient : DefaultTlsClient
{
    private readonly TlsClientOptions _options;
    private readonly EngineContext _engine;
    private byte[]? _offeredTicket;
    private bool _offeredSession;
    private NewSessionTicket? _newTicket;

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

    /// <summary>BouncyCastle asks for the session before it builds the extensions, so the ticket to present
    /// (RFC 5077 §3.4) is known by the time <see cref="GetClientExtensions"/> runs.</summary>
    public override TlsSession? GetSessionToResume()
    {
        var entry = _options.SessionCache?.FindEntry(_options.ServerName, _engine.CurrentTime);
        _offeredSession = entry is not null;
        _offeredTicket = entry?.Ticket;
        return entry?.Session;
    }

    /// <summary>RFC 5077 §3.2: the SessionTicket extension, empty to ask for a ticket, or with the ticket to
    /// resume; RFC 8449: the record_size_limit extension.</summary>
    public override IDictionary<int, byte[]> GetClientExtensions()
    {
        var extensions = base.GetClientExtensions();
        if (_options.SessionCache is not null && _options.OnlyVersion != TlsVersion.Tls13)
        {
            extensions[ExtensionType.session_ticket] = _offeredTicket ?? TlsUtilities.EmptyBytes;
        }

        // RFC 8449 §4: we take full-size records; a client offering 1.3 says so with 2^14 + 1.
        extensions[ExtensionType.record_size_limit] = TlsUtilities.EncodeUint16(
            _options.AdvertisedRecordSizeLimit ?? RecordSizeLimit.Advertised(_options.OnlyVersion != TlsVersion.Tls12));

        return extensions;
    }

    /// <summary>RFC 5077 §3.3: kept until the handshake completes, then stored with the session.</summary>
    public override void NotifyNewSessionTicket(NewSessionTicket newSessionTicket) => _newTicket = newSessionTicket;

    public override TlsAuthentication GetAuthentication() => new ServerCertificateCheck(_options, _engine);

    public override int GetMaxHandshakeMessageSize() => TlsPolicy.MaxHandshakeMessageSize;

    public override int GetMaxCertificateChainLength() => TlsPolicy.MaxCertificateChainLength;

    /// <summary>RFC 7627: without the extended master secret a TLS 1.2 session is open to the triple handshake.</summary>
    public override bool RequiresExtendedMasterSecret() => true;

    /// <summary>Certificate signature algorithms are the verifier's business (it rejects SHA-1 and MD5 itself).</summary>
    public override bool ShouldCheckSigAlgOfPeerCerts() => false;

    public override void NotifyAlertRaised(short alertLevel, short alertDescription, string message, Exception cause)
    {
        ForgetOfferedSession(alertLevel);
        _engine.AlertRaised(alertLevel, alertDescription);
    }

    public override void NotifyAlertReceived(short alertLevel, short alertDescription)
    {
        ForgetOfferedSession(alertLevel);
        _engine.AlertReceived(alertLevel, alertDescription);
    }

    /// <summary>A handshake that failed while resuming must not fail the same way next time: BouncyCastle, for
    /// one, cannot take a renewed ticket in an abbreviated handshake (RFC 5077 §3.1, Figure 2).</summary>
    private void ForgetOfferedSession(short alertLevel)
    {
        if (alertLevel == AlertLevel.fatal && _offeredSession && _engine.Connection is null)
        {
            _options.SessionCache?.Remove(_options.ServerName);
        }
    }

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        var info = _engine.Complete(m_context, GetSniServerNames() is null ? null : _options.ServerName);
        if (_options.SessionCache is not { } cache || info.Version != TlsVersion.Tls12)
        {
            return;
        }

        var session = m_context.Session;
        if (_newTicket is { Ticket.Length: > 0 } ticket && session?.ExportSessionParameters() is { } parameters)
        {
            // RFC 5077 §3.4: we present the ticket with a session ID of our own, which an accepting server echoes.
            var resumable = TlsUtilities.ImportSession(m_context.NonceGenerator.GenerateNonce(32), parameters);
            TimeSpan? hint = ticket.TicketLifetimeHint > 0 ? TimeSpan.FromSeconds(ticket.TicketLifetimeHint) : null;
            cache.Store(_options.ServerName, resumable, _engine.CurrentTime, ticket.Ticket, hint);
        }
        else if (_newTicket is not null)
        {
            // An empty ticket: the server will not resume this session (RFC 5077 §3.3).
            cache.Remove(_options.ServerName);
        }
        else if (!info.Resumed && session is { IsResumable: true })
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
