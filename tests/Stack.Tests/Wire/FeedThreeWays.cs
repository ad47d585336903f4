namespace Apps.Stack.Tests.Wire;

/// <summary>A Wire/ parser in the shape every one of them has.</summary>
internal delegate bool WireParser<T>(ReadOnlySpan<byte> data, out T value, out DropReason reason);

/// <summary>
/// STYLE D.21: feeds a decode vector whole, one byte at a time (every growing prefix) and with
/// trailing data. Prefixes shorter than the format needs must be refused as truncated, never throw.
/// </summary>
internal static class FeedThreeWays
{
    public static void Check<T>(byte[] vector, WireParser<T> parse, T expected, int? requiredLength = null)
    {
        int required = requiredLength ?? vector.Length;

        Assert.True(parse(vector, out var whole, out var reason), $"whole vector refused: {reason}");
        Assert.Equal(expected, whole);

        for (int length = 0; length <= vector.Length; length++)
        {
            bool ok = parse(vector.AsSpan(0, length), out var partial, out reason);
            if (length < required)
            {
                Assert.False(ok, $"a {length}-byte prefix was accepted");
                Assert.Equal(DropReason.Truncated, reason);
            }
            else
            {
                Assert.True(ok, $"a {length}-byte prefix was refused: {reason}");
            }
        }

        var trailing = new byte[vector.Length + 7];
        vector.CopyTo(trailing, 0);
        trailing.AsSpan(vector.Length).Fill(0xA5);
        Assert.True(parse(trailing, out var withTrailer, out reason), $"vector with trailing bytes refused: {reason}");
        Assert.Equal(expected, withTrailer);
    }
}
