using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Apps.Stack.Tcp;

/// <summary>
/// Initial sequence numbers per RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
/// M a 4-microsecond clock and F a keyed hash (HMAC-SHA-256 truncated to 32 bits) under a secret
/// drawn from the injected randomness.
/// </summary>
internal sealed class TcpIsnGenerator
{
    private readonly byte[] _secret;

    public TcpIsnGenerator(ReadOnlySpan<byte> secret)
    {
        if (secret.Length < 16) throw new ArgumentException("the ISN secret needs at least 16 random bytes", nameof(secret));
        _secret = secret.ToArray();
    }

    public Wire.TcpSeqNumber Next(in TcpTuple tuple, TimeSpan now)
    {
        Span<byte> input = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32BigEndian(input, tuple.LocalAddress.Value);
        BinaryPrimitives.WriteUInt16BigEndian(input[4..], tuple.LocalPort);
        BinaryPrimitives.WriteUInt32BigEndian(input[6..], tuple.RemoteAddress.Value);
        BinaryPrimitives.WriteUInt16BigEndian(input[10..], tuple.RemotePort);
        Span<byte> hash = stackalloc byte[32];
        HMACSHA256.HashData(_secret, input, hash);
        uint m = unchecked((uint)(now.Ticks / 40)); // 4 µs units (RFC 6528 §3, RFC 9293 §3.4.1)
        return new Wire.TcpSeqNumber(unchecked(m + BinaryPrimitives.ReadUInt32BigEndian(hash)));
    }
}
