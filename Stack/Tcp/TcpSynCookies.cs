using System.Buffers.Binary;
using System.Security.Cryptography;
using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

/// <summary>
/// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN-ACK's sequence number
/// carries what the handshake needs, so nothing is stored until the client's ACK proves the cookie.
/// ISS layout: bits 31-27 a 64-second counter (mod 32), bits 26-24 an MSS index, bits 23-0 a keyed
/// hash (HMAC-SHA-256) of the 4-tuple, the counter and the client's ISN. A cookie is good for the
/// current and the previous counter period. Such connections use no window scaling, SACK or
/// timestamps: the cookie SYN-ACK does not offer them.
/// </summary>
internal sealed class TcpSynCookies
{
    private static readonly ushort[] MssTable = [536, 1200, 1360, 1400, 1440, 1452, 1460, 8960];
    private static readonly long PeriodTicks = TimeSpan.FromSeconds(64).Ticks;
    private readonly byte[] _secret;

    public TcpSynCookies(ReadOnlySpan<byte> secret) => _secret = secret.ToArray();

    /// <summary>The cookie ISS for a SYN from <paramref name="clientIsn"/> offering <paramref name="mss"/>.</summary>
    public TcpSeqNumber Make(in TcpTuple tuple, TcpSeqNumber clientIsn, int mss, TimeSpan now)
    {
        uint counter = Counter(now);
        uint index = 0;
        for (uint i = 0; i < MssTable.Length; i++) if (MssTable[i] <= mss) index = i;
        return new TcpSeqNumber(((counter & 31) << 27) | (index << 24) | Hash(tuple, counter, clientIsn));
    }

    /// <summary>Checks the cookie an ACK returns (its acknowledgment number minus one); yields the MSS it encodes.</summary>
    public bool TryCheck(in TcpTuple tuple, TcpSeqNumber clientIsn, TcpSeqNumber cookie, TimeSpan now, out int mss)
    {
        mss = 0;
        uint value = cookie.Value;
        uint current = Counter(now);
        for (uint age = 0; age <= 1 && age <= current; age++)
        {
            uint counter = current - age;
            if ((counter & 31) != value >> 27) continue;
            if (Hash(tuple, counter, clientIsn) != (value & 0xFF_FFFF)) return false;
            mss = MssTable[(value >> 24) & 7];
            return true;
        }
        return false;
    }

    private static uint Counter(TimeSpan now) => (uint)(now.Ticks / PeriodTicks);

    private uint Hash(in TcpTuple tuple, uint counter, TcpSeqNumber clientIsn)
    {
        Span<byte> input = stackalloc byte[20];
        BinaryPrimitives.WriteUInt32BigEndian(input, tuple.LocalAddress.Value);
        BinaryPrimitives.WriteUInt16BigEndian(input[4..], tuple.LocalPort);
        BinaryPrimitives.WriteUInt32BigEndian(input[6..], tuple.RemoteAddress.Value);
        BinaryPrimitives.WriteUInt16BigEndian(input[10..], tuple.RemotePort);
        BinaryPrimitives.WriteUInt32BigEndian(input[12..], counter);
        BinaryPrimitives.WriteUInt32BigEndian(input[16..], clientIsn.Value);
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_secret, input, hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash) & 0xFF_FFFF;
    }
}
