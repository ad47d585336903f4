using System.Buffers.Binary;
using System.Text;

namespace Apps.Tls.Engine;

/// <summary>
/// What a TLS 1.2 server needs to resume a session from a ticket (RFC 5077 §4 StatePlaintext, our own
/// layout): everything BouncyCastle's <c>SessionParameters</c> holds for a server without client
/// certificates, plus the names the session was bound to and when it was issued.
/// </summary>
/// <remarks>
/// Layout, big-endian: format(1) = 1 | protocol_version(2) | cipher_suite(2) | flags(1, bit 0 = extended
/// master secret) | issued_at(8, Unix seconds) | master_secret&lt;1..2^8-1&gt; | server_name&lt;0..2^8-1&gt; |
/// alpn&lt;0..2^8-1&gt;. It is only ever read after the ticket's tag verified, yet it is still parsed with
/// bounds, and any surprise makes the ticket unusable rather than the handshake fail.
/// </remarks>
internal sealed record SessionTicketState(
    int ProtocolVersion,
    int CipherSuite,
    bool ExtendedMasterSecret,
    DateTimeOffset IssuedAt,
    byte[] MasterSecret,
    string? ServerName,
    byte[]? ApplicationProtocol)
{
    private const byte Format = 1;

    public byte[] Encode()
    {
        var name = ServerName is null ? [] : Encoding.ASCII.GetBytes(ServerName);
        var alpn = ApplicationProtocol ?? [];
        if (MasterSecret.Length is 0 or > 255 || name.Length > 255 || alpn.Length > 255)
        {
            throw new ArgumentException("session state field longer than 255 bytes");
        }

        var buffer = new byte[1 + 2 + 2 + 1 + 8 + 1 + MasterSecret.Length + 1 + name.Length + 1 + alpn.Length];
        var span = buffer.AsSpan();
        span[0] = Format;
        BinaryPrimitives.WriteUInt16BigEndian(span[1..], (ushort)ProtocolVersion);
        BinaryPrimitives.WriteUInt16BigEndian(span[3..], (ushort)CipherSuite);
        span[5] = (byte)(ExtendedMasterSecret ? 1 : 0);
        BinaryPrimitives.WriteInt64BigEndian(span[6..], IssuedAt.ToUnixTimeSeconds());
        var at = 14;
        foreach (var field in new[] { MasterSecret, name, alpn })
        {
            span[at++] = (byte)field.Length;
            field.CopyTo(span[at..]);
            at += field.Length;
        }

        return buffer;
    }

    public static SessionTicketState? TryDecode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 14 || data[0] != Format || data[5] > 1)
        {
            return null;
        }

        var version = BinaryPrimitives.ReadUInt16BigEndian(data[1..]);
        var suite = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
        var issued = BinaryPrimitives.ReadInt64BigEndian(data[6..]);
        if (issued < 0 || issued > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            return null;
        }

        var rest = data[14..];
        if (!TryReadField(ref rest, out var secret) || secret.Length == 0
            || !TryReadField(ref rest, out var name) || !TryReadField(ref rest, out var alpn) || rest.Length != 0)
        {
            return null;
        }

        return new SessionTicketState(version, suite, data[5] == 1, DateTimeOffset.FromUnixTimeSeconds(issued), secret,
            name.Length == 0 ? null : Encoding.ASCII.GetString(name), alpn.Length == 0 ? null : alpn);
    }

    private static bool TryReadField(ref ReadOnlySpan<byte> rest, out byte[] field)
    {
        field = [];
        if (rest.Length < 1 || rest.Length < 1 + rest[0])
        {
            return false;
        }

        field = rest.Slice(1, rest[0]).ToArray();
        rest = rest[(1 + rest[0])..];
        return true;
    }
}
