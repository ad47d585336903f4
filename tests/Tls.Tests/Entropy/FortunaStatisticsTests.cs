using System.Text.RegularExpressions;
using Apps.Tls.Entropy;

namespace Apps.Tls.Tests.Entropy;

/// <summary>Statistical sanity with the real <c>rngtest</c> (Debian's rng-tools-debian).</summary>
public sealed class FortunaStatisticsTests
{
    [Fact]
    public void Twenty_megabytes_pass_fips_140_2_within_rngtests_expected_failure_rate()
    {
        using var f = new Fortuna(TimeProvider.System);
        f.RestoreSeed(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        const int Blocks = 8000; // rngtest judges 20,000-bit (2,500-byte) blocks: 20 MB in all
        // rngtest discards the first 32 bits as a "bits of FIPS continuous test" seed.
        var data = new byte[4 + Blocks * 2500];
        // Draw in mixed request sizes, as real callers do.
        int offset = 0, size = 1;
        while (offset < data.Length)
        {
            int n = Math.Min(size, data.Length - offset);
            f.Fill(data.AsSpan(offset, n));
            offset += n;
            size = size >= 1 << 20 ? 1 : size * 3;
        }

        ExternalTool.Result r = ExternalTool.Run("rngtest", ["-c", Blocks.ToString()], stdin: data);
        int successes = int.Parse(Regex.Match(r.Stderr, @"FIPS 140-2 successes: (\d+)").Groups[1].Value);
        int failures = int.Parse(Regex.Match(r.Stderr, @"FIPS 140-2 failures: (\d+)").Groups[1].Value);
        Assert.Equal(Blocks, successes + failures);
        // A perfect source fails each block with probability about 0.0008 (mostly the long-run and
        // poker tests): about 6 of 8,000. More than 20 is over five standard deviations out.
        Assert.True(failures <= 20, $"{failures} of {Blocks} blocks failed FIPS 140-2:\n{r.Stderr}");
    }
}
