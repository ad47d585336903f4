using Apps.TrustStore.Certificates;

namespace Apps.TrustStore.Policy;

/// <summary>
/// One trusted key for one server. A server may have several pins (planned key rotation);
/// an offered key is accepted when it matches any of them.
/// </summary>
public sealed record Pin
{
    /// <summary>The store's id; 0 for a pin not yet stored.</summary>
    public int Id { get; init; }

    /// <summary>The service that first met the key (<c>xmpp-client</c>, <c>https</c>, ...).</summary>
    public required string Service { get; init; }

    /// <summary>The server the key belongs to.</summary>
    public required HostPort Server { get; init; }

    /// <summary>The SHA-256 of the key.</summary>
    public required SpkiFingerprint Spki { get; init; }

    /// <summary>The last certificate chain seen with this key, DER, leaf first; empty for a fingerprint-only pin.</summary>
    public IReadOnlyList<byte[]> Chain { get; init; } = [];

    /// <summary>The leaf of <see cref="Chain"/>, parsed; null for a fingerprint-only pin.</summary>
    public CertificateInfo? Certificate { get; init; }

    /// <summary>When the key was first trusted.</summary>
    public required DateTimeOffset FirstSeen { get; init; }

    /// <summary>When the key was last offered and accepted.</summary>
    public required DateTimeOffset LastSeen { get; init; }

    /// <summary>How many handshakes have offered this key, counting the first.</summary>
    public long TimesSeen { get; init; }

    /// <summary>How the key came to be trusted.</summary>
    public required TrustedBy TrustedBy { get; init; }

    /// <summary>A person's note, or null.</summary>
    public string? Note { get; init; }

    /// <summary>The longest note kept.</summary>
    public const int MaxNoteLength = 1024;
}

/// <summary>What happened to a server's keys, kept in its history.</summary>
public enum HistoryEventKind
{
    /// <summary>A key was pinned on first use.</summary>
    FirstUse,
    /// <summary>A CA-verified key was recorded.</summary>
    CaVerified,
    /// <summary>A key that matches no pin was offered and rejected; the event keeps the offered chain.</summary>
    KeyRejected,
    /// <summary>A person pinned a key.</summary>
    ManualPin,
    /// <summary>A person accepted a changed key; the old pins were removed.</summary>
    ChangeAccepted,
    /// <summary>A person forgot the server's pins.</summary>
    Forgotten,
    /// <summary>A pin was imported.</summary>
    Imported,
}

/// <summary>One entry in a server's history.</summary>
/// <param name="Id">The store's id; 0 before it is stored.</param>
/// <param name="Server">The server concerned.</param>
/// <param name="Service">The service that caused the event, or <c>trust</c> for the command.</param>
/// <param name="At">When it happened.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Spki">The key concerned, if any.</param>
/// <param name="Chain">The chain concerned (the offered chain of a rejected key), DER, leaf first.</param>
/// <param name="Detail">One line for people.</param>
public sealed record HistoryEvent(
    long Id,
    HostPort Server,
    string Service,
    DateTimeOffset At,
    HistoryEventKind Kind,
    SpkiFingerprint? Spki,
    IReadOnlyList<byte[]> Chain,
    string Detail);
