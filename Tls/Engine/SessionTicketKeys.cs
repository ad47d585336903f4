// Read this first: RFC 5077 §4 (recommended ticket construction) and §5.5 (ticket protection keys).
// A ticket is key_name[16] || nonce[12] || AES-256-GCM(state) || tag[16], with key_name as additional
// data: the server alone can read or forge one, and a changed byte fails the tag. Keys come from the
// injected SecureRandom (Fortuna in production), rotate on the caller's clock, and a retired key still
// opens tickets until the longest ticket it sealed has expired; then it is forgotten.
using System.Security.Cryptography;
using Org.BouncyCastle.Security;

namespace Apps.Tls.Engine;

/// <summary>
/// The keys a TLS 1.2 server seals its session tickets with (RFC 5077), rotated every
/// <see cref="RotationInterval"/>. Share one instance among all connections of a server; thread-safe.
/// </summary>
public sealed class SessionTicketKeys
{
    internal const int KeyNameLength = 16;
    private const int KeyLength = 32;
    private const int NonceLength = 12;
    private const int TagLength = 16;

    /// <summary>Bytes a ticket adds to the state it carries.</summary>
    internal const int Overhead = KeyNameLength + NonceLength + TagLength;

    /// <summary>Longest ticket we try to open; ours are far shorter, so anything longer is not ours.</summary>
    internal const int MaxTicketLength = 1024;

    private const int MaxKeys = 16;

    private readonly object _gate = new();
    private readonly SecureRandom _random;
    private readonly List<TicketKey> _keys = [];

    /// <param name="random">Where key material comes from (Fortuna's adapter in production).</param>
    /// <param name="ticketLifetime">How long a ticket may be used after it was issued (RFC 5077 §3.3 lifetime hint).</param>
    /// <param name="rotationInterval">How long one key seals new tickets before a fresh key takes over.</param>
    public SessionTicketKeys(SecureRandom random, TimeSpan? ticketLifetime = null, TimeSpan? rotationInterval = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
        TicketLifetime = ticketLifetime ?? TimeSpan.FromHours(2);
        RotationInterval = rotationInterval ?? TimeSpan.FromHours(12);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(TicketLifetime, TimeSpan.Zero, nameof(ticketLifetime));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(TicketLifetime, TimeSpan.FromDays(7), nameof(ticketLifetime));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RotationInterval, TimeSpan.Zero, nameof(rotationInterval));
    }

    /// <summary>How long a ticket stays valid after it was issued.</summary>
    public TimeSpan TicketLifetime { get; }

    /// <summary>How long one key seals new tickets.</summary>
    public TimeSpan RotationInterval { get; }

    /// <summary>Keys currently able to open tickets (the sealing key and retired ones not yet expired).</summary>
    public int LiveKeyCount
    {
        get
        {
            lock (_gate)
            {
                return _keys.Count;
            }
        }
    }

    /// <summary>Seals <paramref name="state"/> into a ticket with the key current at <paramref name="now"/>.</summary>
    internal byte[] Seal(ReadOnlySpan<byte> state, DateTimeOffset now)
    {
        TicketKey key;
        lock (_gate)
        {
            key = CurrentKey(now);
        }

        var ticket = new byte[Overhead + state.Length];
        key.Name.CopyTo(ticket, 0);
        var nonce = ticket.AsSpan(KeyNameLength, NonceLength);
        lock (_gate)
        {
            _random.NextBytes(nonce);
        }

        using var aead = new AesGcm(key.Secret, TagLength);
        aead.Encrypt(nonce, state, ticket.AsSpan(KeyNameLength + NonceLength, state.Length),
            ticket.AsSpan(ticket.Length - TagLength), key.Name);
        return ticket;
    }

    /// <summary>The state inside <paramref name="ticket"/>, or null when it is not one of ours, was altered,
    /// or its key has been retired for longer than a ticket lives.</summary>
    internal byte[]? Open(ReadOnlySpan<byte> ticket, DateTimeOffset now)
    {
        if (ticket.Length <= Overhead || ticket.Length > MaxTicketLength)
        {
            return null;
        }

        TicketKey? key = null;
        lock (_gate)
        {
            Expire(now);
            foreach (var candidate in _keys)
            {
                if (ticket[..KeyNameLength].SequenceEqual(candidate.Name))
                {
                    key = candidate;
                    break;
                }
            }
        }

        if (key is null)
        {
            return null;
        }

        var state = new byte[ticket.Length - Overhead];
        using var aead = new AesGcm(key.Secret, TagLength);
        try
        {
            aead.Decrypt(ticket.Slice(KeyNameLength, NonceLength), ticket.Slice(KeyNameLength + NonceLength, state.Length),
                ticket[^TagLength..], state, key.Name);
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }

        return state;
    }

    private TicketKey CurrentKey(DateTimeOffset now)
    {
        Expire(now);
        if (_keys.Count > 0 && now < _keys[0].Created + RotationInterval && now >= _keys[0].Created)
        {
            return _keys[0];
        }

        var name = new byte[KeyNameLength];
        var secret = new byte[KeyLength];
        _random.NextBytes(name);
        _random.NextBytes(secret);
        var key = new TicketKey(name, secret, now);
        _keys.Insert(0, key);
        if (_keys.Count > MaxKeys)
        {
            // Only a clock that jumps back and forth gets here; the oldest key goes first.
            CryptographicOperations.ZeroMemory(_keys[^1].Secret);
            _keys.RemoveAt(_keys.Count - 1);
        }

        return key;
    }

    /// <summary>A key that stopped sealing at Created + RotationInterval opens tickets for one more lifetime.</summary>
    private void Expire(DateTimeOffset now)
    {
        for (var i = _keys.Count - 1; i >= 0; i--)
        {
            if (now >= _keys[i].Created + RotationInterval + TicketLifetime)
            {
                CryptographicOperations.ZeroMemory(_keys[i].Secret);
                _keys.RemoveAt(i);
            }
        }
    }

    private sealed record TicketKey(byte[] Name, byte[] Secret, DateTimeOffset Created);
}
