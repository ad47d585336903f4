namespace Apps.TrustStore.Policy;

/// <summary>
/// What the TLS engine concluded about the chain against the CA roots, reduced to what the
/// policy needs. The connection layer maps the engine's verdict to this.
/// </summary>
/// <param name="Verified">True when the chain verified to a trusted root and the name matched.</param>
/// <param name="Reason">Why it did not verify (one line, for people); empty when verified.</param>
public readonly record struct CaVerdict(bool Verified, string Reason)
{
    /// <summary>A chain that verified.</summary>
    public static CaVerdict Trusted => new(true, "");

    /// <summary>A chain that did not verify, with the reason.</summary>
    public static CaVerdict Untrusted(string reason) => new(false, reason);
}

/// <summary>The question the connection layer asks after a handshake has produced the server's chain.</summary>
/// <param name="Service">Which application asks (<c>xmpp-client</c>, <c>https</c>, ...).</param>
/// <param name="Server">The server connected to.</param>
/// <param name="OfferedChain">The chain the server sent, DER, leaf first.</param>
/// <param name="Ca">What CA verification concluded.</param>
/// <param name="Now">The current time (injected, never read by the policy).</param>
public sealed record TrustRequest(
    string Service,
    HostPort Server,
    IReadOnlyList<byte[]> OfferedChain,
    CaVerdict Ca,
    DateTimeOffset Now);
