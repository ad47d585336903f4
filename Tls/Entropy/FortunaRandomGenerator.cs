using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Security;

namespace Apps.Tls.Entropy;

/// <summary>
/// BouncyCastle's <see cref="IRandomGenerator"/> over <see cref="Fortuna"/>: the TLS engine
/// takes all its randomness from a <see cref="SecureRandom"/> built by <see cref="CreateSecureRandom"/>.
/// Seed material that BouncyCastle offers goes into Fortuna's pools as events of
/// <see cref="EntropySourceIds.BouncyCastle"/>; it never replaces the accumulator's own seeding.
/// </summary>
public sealed class FortunaRandomGenerator : IRandomGenerator
{
    private readonly Fortuna _fortuna;

    public FortunaRandomGenerator(Fortuna fortuna) =>
        _fortuna = fortuna ?? throw new ArgumentNullException(nameof(fortuna));

    /// <summary>A <see cref="SecureRandom"/> that draws only from <paramref name="fortuna"/>.</summary>
    public static SecureRandom CreateSecureRandom(Fortuna fortuna) =>
        new(new FortunaRandomGenerator(fortuna));

    public void AddSeedMaterial(byte[] seed) => AddSeedMaterial(seed.AsSpan());

    public void AddSeedMaterial(ReadOnlySpan<byte> seed)
    {
        while (!seed.IsEmpty)
        {
            int n = Math.Min(seed.Length, Fortuna.MaxEventBytes);
            _fortuna.AddEvent(EntropySourceIds.BouncyCastle, seed[..n]);
            seed = seed[n..];
        }
    }

    public void AddSeedMaterial(long seed)
    {
        Span<byte> bytes = stackalloc byte[sizeof(long)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes, seed);
        AddSeedMaterial(bytes);
    }

    public void NextBytes(byte[] bytes) => _fortuna.Fill(bytes);

    public void NextBytes(byte[] bytes, int start, int len) => _fortuna.Fill(bytes.AsSpan(start, len));

    public void NextBytes(Span<byte> bytes) => _fortuna.Fill(bytes);
}
