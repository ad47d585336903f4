namespace Apps.Conduit.Endpoints;

/// <summary>How a connection to a <see cref="ConnectTarget"/> is secured.</summary>
public enum TargetSecurity
{
    /// <summary>Plain TCP (<c>tcp://</c>).</summary>
    Plain,

    /// <summary>TLS from the first byte (<c>tls://</c>, or an <c>_xmpps-client._tcp</c> SRV target, XEP-0368).</summary>
    DirectTls,

    /// <summary>Plain until the application protocol agrees to STARTTLS (an <c>_xmpp-client._tcp</c> SRV target or
    /// the domain:5222 fallback, RFC 6120 §5); the caller then calls <see cref="ConduitNetwork.StartTlsAsync"/>.</summary>
    StartTls,
}

/// <summary>
/// Where a connection actually went: the host and port dialled (an SRV target for <c>xmpp://domain</c>, else the
/// endpoint itself) and how it is secured. <see cref="TargetSecurity.DirectTls"/> connections arrive already secured;
/// <see cref="TargetSecurity.StartTls"/> ones arrive plain and expect the caller to upgrade them.
/// </summary>
/// <param name="Host">The host name or address dialled.</param>
/// <param name="Port">The port dialled.</param>
/// <param name="Security">How the connection is, or is to be, secured.</param>
/// <param name="FromSrv">True when the target came from an SRV record rather than the endpoint or the fallback.</param>
public sealed record ConnectTarget(string Host, int Port, TargetSecurity Security, bool FromSrv = false)
{
    /// <summary>"host:port", IPv6 hosts in brackets.</summary>
    public override string ToString() => (Host.Contains(':') ? "[" + Host + "]" : Host) + ":" + Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
