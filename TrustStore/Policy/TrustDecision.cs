namespace Apps.TrustStore.Policy;

/// <summary>
/// The answer of <see cref="TofuPolicy.Decide"/>: accept or reject, with what the store must
/// record as data (the policy itself writes nothing).
/// </summary>
public abstract record TrustDecision(TrustPolicy Policy)
{
    /// <summary>True for <see cref="Accepted"/>.</summary>
    public bool IsAccepted => this is Accepted;
}

/// <summary>Why a key was accepted.</summary>
public enum AcceptBasis
{
    /// <summary>The key matches a pin.</summary>
    PinMatch,
    /// <summary>The chain is CA-verified (policy ca, or tofu for a server with no pin yet).</summary>
    CaVerified,
    /// <summary>The server had no pin and the policy is tofu.</summary>
    FirstUse,
}

/// <summary>The connection may proceed.</summary>
/// <param name="Policy">The policy that applied.</param>
/// <param name="Basis">Why the key was accepted.</param>
/// <param name="Record">The pin to store: a new one (<see cref="IsNewPin"/>) or the matched one with the sighting counted.</param>
/// <param name="IsNewPin">True to insert <paramref name="Record"/>, false to update it.</param>
/// <param name="SupersededPinIds">Pins to delete (older CA-verified keys replaced under policy ca).</param>
/// <param name="Event">A history event to append, or null for a plain sighting.</param>
/// <param name="Warnings">One-line notices for people: near expiry, first use without CA verification.</param>
public sealed record Accepted(
    TrustPolicy Policy,
    AcceptBasis Basis,
    Pin Record,
    bool IsNewPin,
    IReadOnlyList<int> SupersededPinIds,
    HistoryEvent? Event,
    IReadOnlyList<string> Warnings) : TrustDecision(Policy);

/// <summary>Why a key was rejected.</summary>
public enum RejectReason
{
    /// <summary>The server sent no certificate, or one that cannot be parsed.</summary>
    MalformedChain,
    /// <summary>Policy ca, and the chain is not CA-verified.</summary>
    NotCaVerified,
    /// <summary>Policy pin, and the server has no pin.</summary>
    NotPinned,
    /// <summary>The server has pins and the offered key matches none of them.</summary>
    KeyChanged,
}

/// <summary>The connection must be closed.</summary>
/// <param name="Policy">The policy that applied.</param>
/// <param name="Reason">Why.</param>
/// <param name="Message">One line for people: what happened and what to do.</param>
/// <param name="Event">The history event to append (the offered chain is kept in it for <c>trust accept-change</c>).</param>
public sealed record Rejected(
    TrustPolicy Policy,
    RejectReason Reason,
    string Message,
    HistoryEvent Event) : TrustDecision(Policy);
