using System.IO.Compression;

namespace Apps.Http.Service;

/// <summary>
/// Compresses a cached file once, at the ratio worth keeping (RFC 9110 §8.4.1 content codings): Brotli at its
/// highest quality for files up to <see cref="BestQualityBytes"/> and quality 9 above (quality 11 takes about ten
/// times as long for a few percent), and gzip at its smallest size. The response compression middleware's
/// per-request setting (Brotli and gzip at their fastest) stays for what is not cached.
/// </summary>
internal static class ContentCoding
{
    /// <summary>Up to this size a file gets Brotli's quality 11.</summary>
    public const int BestQualityBytes = 256 * 1024;

    /// <summary>The content codings this class makes, by their registered names.</summary>
    public static bool IsKnown(string coding) => coding is "br" or "gzip";

    /// <summary>The content coded, or null for a coding it does not make.</summary>
    public static byte[]? Encode(ReadOnlySpan<byte> content, string coding) => coding switch
    {
        "br" => Brotli(content),
        "gzip" => Gzip(content),
        _ => null,
    };

    private static byte[] Brotli(ReadOnlySpan<byte> content)
    {
        var quality = content.Length <= BestQualityBytes ? 11 : 9;
        var output = new byte[BrotliEncoder.GetMaxCompressedLength(content.Length)];
        if (!BrotliEncoder.TryCompress(content, output, out var written, quality, window: 22))
        {
            throw new InvalidOperationException("Brotli needed more than its own bound for the output");
        }

        return output.AsSpan(0, written).ToArray();
    }

    private static byte[] Gzip(ReadOnlySpan<byte> content)
    {
        using var output = new MemoryStream(content.Length / 3 + 64);
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return output.ToArray();
    }
}
