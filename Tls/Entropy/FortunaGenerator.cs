using System.Security.Cryptography;

namespace Apps.Tls.Entropy;

/// <summary>
/// Fortuna's generator (Ferguson, Schneier and Kohno, "Cryptography Engineering", §9.4):
/// AES-256 in counter mode with a 128-bit counter.
/// </summary>
/// <remarks>
/// Read this first. Invariants:
/// <list type="bullet">
/// <item>The counter is zero exactly while the generator has never been seeded; nothing is produced then.</item>
/// <item>After every request two more blocks become the new key, so a later key compromise
/// reveals nothing already produced (forward secrecy).</item>
/// <item>One internal request yields at most 2^16 blocks (1 MiB); larger requests are split,
/// each part followed by a re-key, which bounds the output under one key as §9.4.4 asks.</item>
/// </list>
/// Not thread-safe: <see cref="Fortuna"/> gives each thread its own.
/// </remarks>
public sealed class FortunaGenerator : IDisposable
{
    /// <summary>The largest output produced under one key (§9.4.4: 2^16 blocks).</summary>
    public const int MaxRequestBytes = 1 << 20;

    private readonly AesCtrKeystream _aes;
    private readonly byte[] _key = new byte[AesCtrKeystream.KeySize];
    private UInt128 _counter;

    /// <summary>Creates an unseeded generator (zero key, zero counter).</summary>
    public FortunaGenerator() : this(useIntrinsics: true) { }

    internal FortunaGenerator(bool useIntrinsics) => _aes = new AesCtrKeystream(useIntrinsics);

    /// <summary>True once <see cref="Reseed"/> has run at least once.</summary>
    public bool IsSeeded => _counter != UInt128.Zero;

    internal bool UsesIntrinsics => _aes.UsesIntrinsics;

    internal UInt128 Counter => _counter;

    internal ReadOnlySpan<byte> Key => _key;

    /// <summary>§9.4.2: K = SHA-256d(K || s); C = C + 1.</summary>
    public void Reseed(ReadOnlySpan<byte> seed)
    {
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            hash.AppendData(_key);
            hash.AppendData(seed);
            Span<byte> inner = stackalloc byte[32];
            hash.GetHashAndReset(inner);
            SHA256.HashData(inner, _key);
            CryptographicOperations.ZeroMemory(inner);
        }
        _counter++;
        _aes.SetKey(_key);
    }

    /// <summary>
    /// Fills <paramref name="output"/> with pseudo-random bytes (§9.4.4 PseudoRandomData),
    /// re-keying after every part of at most <see cref="MaxRequestBytes"/>.
    /// </summary>
    /// <exception cref="EntropyNotSeededException">The generator has never been seeded.</exception>
    public void Generate(Span<byte> output)
    {
        if (!IsSeeded)
        {
            throw new EntropyNotSeededException();
        }
        while (!output.IsEmpty)
        {
            int part = Math.Min(output.Length, MaxRequestBytes);
            GenerateOnce(output[..part]);
            output = output[part..];
        }
    }

    private void GenerateOnce(Span<byte> output)
    {
        int whole = output.Length / AesCtrKeystream.BlockSize;
        _aes.Generate(ref _counter, whole, output);

        // The tail of a partial block and the two re-key blocks come from one small
        // buffer; a partial block's unused bytes are discarded, as the book's r[0..n) does.
        Span<byte> tail = stackalloc byte[3 * AesCtrKeystream.BlockSize];
        int rest = output.Length - whole * AesCtrKeystream.BlockSize;
        int tailBlocks = rest == 0 ? 2 : 3;
        _aes.Generate(ref _counter, tailBlocks, tail);
        if (rest != 0)
        {
            tail[..rest].CopyTo(output[(whole * AesCtrKeystream.BlockSize)..]);
        }
        tail.Slice((tailBlocks - 2) * AesCtrKeystream.BlockSize, AesCtrKeystream.KeySize).CopyTo(_key);
        CryptographicOperations.ZeroMemory(tail);
        _aes.SetKey(_key);
    }

    /// <summary>Zeroes the key.</summary>
    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_key);
        _counter = UInt128.Zero;
        _aes.Dispose();
    }
}
