using Org.BouncyCastle.Crypto.Prng;

namespace Apps.Conduit.Dns;

/// <summary>BouncyCastle's <see cref="IRandomGenerator"/> over a fill function (Fortuna's <c>Fill</c> in production).</summary>
internal sealed class SpanRandomGenerator(Action<Span<byte>> fill) : IRandomGenerator
{
    public void AddSeedMaterial(byte[] seed)
    {
        // The fill function gathers its own entropy; seeds offered through BouncyCastle are not needed.
    }

    public void AddSeedMaterial(ReadOnlySpan<byte> seed)
    {
    }

    public void AddSeedMaterial(long seed)
    {
    }

    public void NextBytes(byte[] bytes) => fill(bytes);

    public void NextBytes(byte[] bytes, int start, int len) => fill(bytes.AsSpan(start, len));

    public void NextBytes(Span<byte> bytes) => fill(bytes);
}
