using System.Buffers;

namespace Apps.Tls.Tests;

/// <summary>
/// Feeds a decode vector three ways (STYLE.md D.21): whole, one byte at a time, and with
/// trailing data. The parser returns how many bytes it consumed (0 = need more).
/// </summary>
internal static class Feed
{
    internal delegate int Parser<T>(ReadOnlySequence<byte> buffer, out T? value);

    internal static IEnumerable<(string Way, T? Value, int Consumed)> ThreeWays<T>(byte[] vector, Parser<T> parse)
    {
        // Whole.
        int n = parse(new ReadOnlySequence<byte>(vector), out T? whole);
        yield return ("whole", whole, n);

        // One byte at a time: nothing may be consumed until the last byte arrives.
        T? value = default;
        int consumed = 0;
        for (int i = 1; i <= vector.Length; i++)
        {
            consumed = parse(new ReadOnlySequence<byte>(vector, 0, i), out value);
            if (i < vector.Length && consumed != 0)
            {
                throw new Xunit.Sdk.XunitException($"consumed {consumed} bytes from a {i}-byte prefix of a {vector.Length}-byte vector");
            }
        }
        yield return ("bytewise", value, consumed);

        // Trailing data stays unconsumed.
        byte[] trailing = [.. vector, 0x01, 0x02, 0x03];
        n = parse(new ReadOnlySequence<byte>(trailing), out T? withTrailing);
        yield return ("trailing", withTrailing, n);
    }
}
