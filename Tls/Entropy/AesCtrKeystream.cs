using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;
using Sse2 = System.Runtime.Intrinsics.X86.Sse2;

namespace Apps.Tls.Entropy;

/// <summary>
/// AES-256 applied to a 128-bit big-endian counter: the block function of Fortuna's
/// generator. With AES-NI the rounds run on <see cref="X86Aes"/> intrinsics, eight
/// blocks at a time so the pipelined AESENC units stay busy; without it, counter
/// blocks are encrypted in bulk with .NET's <see cref="System.Security.Cryptography.Aes"/>
/// in ECB mode (OpenSSL underneath, itself hardware-accelerated where it can be).
/// </summary>
/// <remarks>
/// Counter blocks are big-endian so that the keystream equals OpenSSL's
/// <c>aes-256-ctr</c> with the counter as IV: tests check it with the real <c>openssl enc</c>.
/// </remarks>
internal sealed class AesCtrKeystream : IDisposable
{
    internal const int KeySize = 32;
    internal const int BlockSize = 16;
    private const int Rounds = 14;

    private readonly bool _intrinsics;
    private readonly Vector128<byte>[] _roundKeys = new Vector128<byte>[Rounds + 1];
    private System.Security.Cryptography.Aes? _fallback;

    /// <param name="useIntrinsics">False forces the portable path (tests compare both).</param>
    internal AesCtrKeystream(bool useIntrinsics = true)
    {
        _intrinsics = useIntrinsics && X86Aes.IsSupported && Sse2.IsSupported;
        if (!_intrinsics)
        {
            _fallback = System.Security.Cryptography.Aes.Create();
        }
    }

    internal bool UsesIntrinsics => _intrinsics;

    internal void SetKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException("AES-256 takes a 32-byte key.", nameof(key));
        }
        if (_intrinsics)
        {
            ExpandKey(key, _roundKeys);
        }
        else
        {
            _fallback!.Key = key.ToArray();
        }
    }

    /// <summary>
    /// Writes <paramref name="blocks"/> keystream blocks for counters
    /// <c>counter, counter+1, ...</c> into <paramref name="output"/> and advances the counter.
    /// </summary>
    internal void Generate(ref UInt128 counter, int blocks, Span<byte> output)
    {
        output = output[..(blocks * BlockSize)];
        if (_intrinsics)
        {
            GenerateIntrinsics(ref counter, output);
        }
        else
        {
            for (int i = 0; i < blocks; i++)
            {
                WriteCounter(counter++, output.Slice(i * BlockSize, BlockSize));
            }
            _fallback!.EncryptEcb(output, output, System.Security.Cryptography.PaddingMode.None);
        }
    }

    public void Dispose()
    {
        Array.Clear(_roundKeys);
        _fallback?.Dispose();
        _fallback = null;
    }

    private static void WriteCounter(UInt128 value, Span<byte> block)
    {
        BinaryPrimitives.WriteUInt64BigEndian(block, (ulong)(value >> 64));
        BinaryPrimitives.WriteUInt64BigEndian(block[8..], (ulong)value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> CounterBlock(UInt128 value) =>
        Vector128.Create(
            BinaryPrimitives.ReverseEndianness((ulong)(value >> 64)),
            BinaryPrimitives.ReverseEndianness((ulong)value)).AsByte();

    private void GenerateIntrinsics(ref UInt128 counter, Span<byte> output)
    {
        ReadOnlySpan<Vector128<byte>> k = _roundKeys;
        Vector128<byte> k0 = k[0], k14 = k[14];
        int offset = 0;
        UInt128 c = counter;

        for (; offset + 8 * BlockSize <= output.Length; offset += 8 * BlockSize)
        {
            Vector128<byte> b0 = CounterBlock(c) ^ k0, b1 = CounterBlock(c + 1) ^ k0;
            Vector128<byte> b2 = CounterBlock(c + 2) ^ k0, b3 = CounterBlock(c + 3) ^ k0;
            Vector128<byte> b4 = CounterBlock(c + 4) ^ k0, b5 = CounterBlock(c + 5) ^ k0;
            Vector128<byte> b6 = CounterBlock(c + 6) ^ k0, b7 = CounterBlock(c + 7) ^ k0;
            c += 8;
            for (int r = 1; r < Rounds; r++)
            {
                Vector128<byte> rk = k[r];
                b0 = X86Aes.Encrypt(b0, rk); b1 = X86Aes.Encrypt(b1, rk);
                b2 = X86Aes.Encrypt(b2, rk); b3 = X86Aes.Encrypt(b3, rk);
                b4 = X86Aes.Encrypt(b4, rk); b5 = X86Aes.Encrypt(b5, rk);
                b6 = X86Aes.Encrypt(b6, rk); b7 = X86Aes.Encrypt(b7, rk);
            }
            Span<byte> o = output.Slice(offset, 8 * BlockSize);
            X86Aes.EncryptLast(b0, k14).CopyTo(o);
            X86Aes.EncryptLast(b1, k14).CopyTo(o[16..]);
            X86Aes.EncryptLast(b2, k14).CopyTo(o[32..]);
            X86Aes.EncryptLast(b3, k14).CopyTo(o[48..]);
            X86Aes.EncryptLast(b4, k14).CopyTo(o[64..]);
            X86Aes.EncryptLast(b5, k14).CopyTo(o[80..]);
            X86Aes.EncryptLast(b6, k14).CopyTo(o[96..]);
            X86Aes.EncryptLast(b7, k14).CopyTo(o[112..]);
        }
        for (; offset < output.Length; offset += BlockSize)
        {
            Vector128<byte> b = CounterBlock(c++) ^ k0;
            for (int r = 1; r < Rounds; r++)
            {
                b = X86Aes.Encrypt(b, k[r]);
            }
            X86Aes.EncryptLast(b, k14).CopyTo(output.Slice(offset, BlockSize));
        }
        counter = c;
    }

    // FIPS 197 §5.2 key expansion for Nk = 8, with AESKEYGENASSIST doing SubWord(RotWord(w)) ^ Rcon.
    private static void ExpandKey(ReadOnlySpan<byte> key, Span<Vector128<byte>> rk)
    {
        Vector128<byte> a = Vector128.Create(key[..16]);
        Vector128<byte> b = Vector128.Create(key[16..]);
        rk[0] = a;
        rk[1] = b;
        a = NextEven(a, X86Aes.KeygenAssist(b, 0x01)); rk[2] = a; b = NextOdd(b, X86Aes.KeygenAssist(a, 0)); rk[3] = b;
        a = NextEven(a, X86Aes.KeygenAssist(b, 0x02)); rk[4] = a; b = NextOdd(b, X86Aes.KeygenAssist(a, 0)); rk[5] = b;
        a = NextEven(a, X86Aes.KeygenAssist(b, 0x04)); rk[6] = a; b = NextOdd(b, X86Aes.KeygenAssist(a, 0)); rk[7] = b;
        a = NextEven(a, X86Aes.KeygenAssist(b, 0x08)); rk[8] = a; b = NextOdd(b, X86Aes.KeygenAssist(a, 0)); rk[9] = b;
        a = NextEven(a, X86Aes.KeygenAssist(b, 0x10)); rk[10] = a; b = NextOdd(b, X86Aes.KeygenAssist(a, 0)); rk[11] = b;
        a = NextEven(a, X86Aes.KeygenAssist(b, 0x20)); rk[12] = a; b = NextOdd(b, X86Aes.KeygenAssist(a, 0)); rk[13] = b;
        rk[14] = NextEven(a, X86Aes.KeygenAssist(b, 0x40));
    }

    // Each new word is the previous word of this half XORed with all earlier words of it
    // (a running XOR done with three lane shifts), then with the assisted word broadcast.
    private static Vector128<byte> NextEven(Vector128<byte> prev, Vector128<byte> assist) =>
        PrefixXor(prev) ^ Sse2.Shuffle(assist.AsInt32(), 0xFF).AsByte();

    private static Vector128<byte> NextOdd(Vector128<byte> prev, Vector128<byte> assist) =>
        PrefixXor(prev) ^ Sse2.Shuffle(assist.AsInt32(), 0xAA).AsByte();

    private static Vector128<byte> PrefixXor(Vector128<byte> v)
    {
        Vector128<byte> shifted = Sse2.ShiftLeftLogical128BitLane(v, 4);
        v ^= shifted;
        shifted = Sse2.ShiftLeftLogical128BitLane(shifted, 4);
        v ^= shifted;
        shifted = Sse2.ShiftLeftLogical128BitLane(shifted, 4);
        return v ^ shifted;
    }
}
