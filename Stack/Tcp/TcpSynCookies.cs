using System.Buffers.Binary;
using System.Security.Cryptography;
using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

/// <summary>
/// SYN cookies (RFC 4987 §3.6): when a listener's SYN queue is full, the SYN-ACK's sequence number
/// carries what the handshake needs, so nothing is stored until the client's ACK proves the cookie.
/// ISS layout: bits 31-27 a 64-second counter (mod 32), bits 26-24 an MSS index, bits 23-0 a keyed
/// hash (HMAC-SHA-256) of the 4-tuple, the counter, the client's ISN and the option bits. A cookie
/// is good for the current and the previous counter period.
/// </summary>
/// <remarks>
/// When the client offers timestamps (RFC 7323), the rest of its options ride in the low six bits of
/// our SYN-ACK's TSval, as Linux does: bits 0-3 its window shift (15: none), bit 4 SACK-permitted.
/// The client echoes the TSval in its ACK's TSecr, which gives the options back; as the bits are
/// hashed into the cookie, a client cannot change them. Without timestamps only the MSS survives:
/// no window scaling and no SACK for that connection.
/// </remarks>
internal sealed class TcpSynCookies
{
    private static readonly ushort[] MssTable = [536, 1200, 1360, 1400, 1440, 1452, 1460, 8960];
    private static readonly long PeriodTicks = TimeSpan.FromSeconds(64).Ticks;
    private readonly byte[] _secret;

    /// <summary>Option bits of a handshake without timestamps (outside the six TSval bits, so never confused with them).</summary>
    public const int NoTimestamps = 0x40;
    private const int OptionMask = 0x3F;
    private const int NoWindowScale = 0xF;
    private const int SackPermittedBit = 0x10;

    public TcpSynCookies(ReadOnlySpan<byte> secret) => _secret = secret.ToArray();

    /// <summary>The option bits for a SYN that offered timestamps, window shift <paramref name="windowScale"/> (null: none) and SACK.</summary>
    public static int OptionBits(byte? windowScale, bool sackPermitted) =>
        (windowScale is byte shift ? Math.Min(shift, TcpOptions.MaxWindowScale) : NoWindowScale) | (sackPermitted ? SackPermittedBit : 0);

    /// <summary>The options a cookie ACK's TSecr gives back (<paramref name="bits"/> from <see cref="OptionBitsOf"/>).</summary>
    public static (byte? WindowScale, bool SackPermitted) Decode(int bits) =>
        ((bits & NoWindowScale) == NoWindowScale ? null : (byte)(bits & NoWindowScale), (bits & SackPermittedBit) != 0);

    /// <summary>The option bits a returning ACK's TSecr carries.</summary>
    public static int OptionBitsOf(uint echoReply) => (int)(echoReply & OptionMask);

    /// <summary>
    /// The cookie SYN-ACK's TSval: the connection's timestamp clock (<paramref name="clock"/>, the same the
    /// restored connection uses) with its low six bits replaced by <paramref name="bits"/>, never ahead of
    /// that clock, so the connection's later timestamps never go backwards.
    /// </summary>
    public static uint Timestamp(uint clock, int bits)
    {
        uint value = (clock & ~(uint)OptionMask) | (uint)bits;
        return unchecked((int)(value - clock)) > 0 ? value - (OptionMask + 1) : value;
    }

    /// <summary>The cookie ISS for a SYN from <paramref name="clientIsn"/> offering <paramref name="mss"/> and the options in <paramref name="bits"/>.</summary>
    public TcpSeqNumber Make(in TcpTuple tuple, TcpSeqNumber clientIsn, int mss, int bits, TimeSpan now)
    {
        uint counter = Counter(now);
        uint index = 0;
        for (uint i = 0; i < MssTable.Length; i++) if (MssTable[i] <= mss) index = i;
        return new TcpSeqNumber(((counter & 31) << 27) | (index << 24) | Hash(tuple, counter, clientIsn, bits));
    }

    /// <summary>
    /// Checks the cookie an ACK returns (its acknowledgment number minus one) together with the option
    /// bits its TSecr carries (<see cref="NoTimestamps"/> without one); yields the MSS it encodes.
    /// </summary>
    public bool TryCheck(in TcpTuple tuple, TcpSeqNumber clientIsn, TcpSeqNumber cookie, int bits, TimeSpan now, out int mss)
    {
        mss = 0;
        uint value = cookie.Value;
        uint current = Counter(now);
        for (uint age = 0; age <= 1 && age <= current; age++)
        {
            uint counter = current - age;
            if ((counter & 31) != value >> 27) continue;
            if (Hash(tuple, counter, clientIsn, bits) != (value & 0xFF_FFFF)) return false;
            mss = MssTable[(value >> 24) & 7];
            return true;
        }
        return false;
    }

    private static uint Counter(TimeSpan now) => (uint)(now.Ticks / PeriodTicks);

    private uint Hash(in TcpTuple tuple, uint counter, TcpSeqNumber clientIsn, int bits)
    {
        Span<byte> input = stackalloc byte[21];
        BinaryPrimitives.WriteUInt32BigEndian(input, tuple.LocalAddress.Value);
        BinaryPrimitives.WriteUInt16BigEndian(input[4..], tuple.LocalPort);
        BinaryPrimitives.WriteUInt32BigEndian(input[6..], tuple.RemoteAddress.Value);
        BinaryPrimitives.WriteUInt16BigEndian(input[10..], tuple.RemotePort);
        BinaryPrimitives.WriteUInt32BigEndian(input[12..], counter);
        BinaryPrimitives.WriteUInt32BigEndian(input[16..], clientIsn.Value);
        input[20] = (byte)bits;
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_secret, input, hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash) & 0xFF_FFFF;
    }
}
