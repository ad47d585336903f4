using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Security;

namespace Apps.Tls.Tests.TestSupport;

/// <summary>A deterministic generator that counts what is drawn from it: stands in for Fortuna in tests.</summary>
internal sealed class CountingRandomGenerator : IRandomGenerator
{
    private readonly DigestRandomGenerator _inner = new(new Sha256Digest());

    public CountingRandomGenerator(long seed) => _inner.AddSeedMaterial(seed);

    public long Calls { get; private set; }

    public long Bytes { get; private set; }

    public void AddSeedMaterial(byte[] seed) => _inner.AddSeedMaterial(seed);

    public void AddSeedMaterial(ReadOnlySpan<byte> seed) => _inner.AddSeedMaterial(seed);

    public void AddSeedMaterial(long seed) => _inner.AddSeedMaterial(seed);

    public void NextBytes(byte[] bytes) => NextBytes(bytes.AsSpan());

    public void NextBytes(byte[] bytes, int start, int len) => NextBytes(bytes.AsSpan(start, len));

    public void NextBytes(Span<byte> bytes)
    {
        Calls++;
        Bytes += bytes.Length;
        _inner.NextBytes(bytes);
    }
}

internal static class TestRandom
{
    private static long _seed = 1;

    /// <summary>A fresh deterministic SecureRandom (distinct seed per call).</summary>
    public static SecureRandom Create() => Create(out _);

    public static SecureRandom Create(out CountingRandomGenerator generator)
    {
        generator = new CountingRandomGenerator(Interlocked.Increment(ref _seed));
        return new SecureRandom(generator);
    }
}
