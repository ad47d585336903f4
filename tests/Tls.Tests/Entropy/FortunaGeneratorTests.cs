using System.Security.Cryptography;
using Apps.Tls.Entropy;

namespace Apps.Tls.Tests.Entropy;

/// <summary>
/// Known-answer tests of the generator. Expected keystreams come from the real
/// <c>openssl enc -aes-256-ctr</c> (a 128-bit big-endian counter as IV), and expected keys
/// from SHA-256 applied twice, so nothing here is computed by the code under test.
/// </summary>
public sealed class FortunaGeneratorTests
{
    private static readonly byte[] Seed = Convert.FromHexString(
        "00112233445566778899aabbccddeeff0102030405060708090a0b0c0d0e0f10" +
        "f0e0d0c0b0a090807060504030201000ffeeddccbbaa99887766554433221100");

    public static TheoryData<bool> Backends => new() { true, false };

    [Fact]
    public void Refuses_output_before_first_reseed()
    {
        using var g = new FortunaGenerator();
        Assert.False(g.IsSeeded);
        Assert.Throws<EntropyNotSeededException>(() => g.Generate(new byte[16]));
    }

    [Theory, MemberData(nameof(Backends))]
    public void Reseed_sets_key_to_sha256d_of_old_key_and_seed(bool intrinsics)
    {
        using var g = new FortunaGenerator(intrinsics);
        g.Reseed(Seed);
        byte[] expected = Sha256d([.. new byte[32], .. Seed]);
        Assert.Equal(expected, g.Key.ToArray());
        Assert.Equal(UInt128.One, g.Counter);

        g.Reseed(Seed);
        Assert.Equal(Sha256d([.. expected, .. Seed]), g.Key.ToArray());
        Assert.Equal((UInt128)2, g.Counter);
    }

    [Theory, MemberData(nameof(Backends))]
    public void Output_and_rekey_match_openssl_aes_256_ctr(bool intrinsics)
    {
        using var g = new FortunaGenerator(intrinsics);
        g.Reseed(Seed);
        byte[] key1 = g.Key.ToArray();

        // 4,096 bytes = 256 blocks, then two blocks become the next key.
        var first = new byte[4096];
        g.Generate(first);
        byte[] stream1 = OpenSslCtr(key1, counter: 1, length: 4096 + 32);
        Assert.Equal(stream1[..4096], first);
        Assert.Equal(stream1[4096..], g.Key.ToArray());
        Assert.Equal((UInt128)(1 + 256 + 2), g.Counter);

        // A partial block: its unused bytes are discarded, the key comes from the next two blocks.
        byte[] key2 = g.Key.ToArray();
        var second = new byte[20];
        g.Generate(second);
        byte[] stream2 = OpenSslCtr(key2, counter: 259, length: 64);
        Assert.Equal(stream2[..20], second);
        Assert.Equal(stream2[32..64], g.Key.ToArray());
    }

    [Theory, MemberData(nameof(Backends))]
    public void Requests_over_one_mebibyte_are_split_with_a_rekey_between(bool intrinsics)
    {
        using var g = new FortunaGenerator(intrinsics);
        g.Reseed(Seed);
        byte[] key1 = g.Key.ToArray();
        var output = new byte[FortunaGenerator.MaxRequestBytes + 48];
        g.Generate(output);

        byte[] part1 = OpenSslCtr(key1, counter: 1, length: FortunaGenerator.MaxRequestBytes + 32);
        Assert.True(part1.AsSpan(0, FortunaGenerator.MaxRequestBytes).SequenceEqual(output.AsSpan(0, FortunaGenerator.MaxRequestBytes)));
        byte[] key2 = part1[FortunaGenerator.MaxRequestBytes..];
        UInt128 counter2 = 1 + (UInt128)(FortunaGenerator.MaxRequestBytes / 16) + 2;
        byte[] part2 = OpenSslCtr(key2, counter2, length: 48);
        Assert.Equal(part2, output[FortunaGenerator.MaxRequestBytes..]);
    }

    [Fact]
    public void Intrinsic_and_portable_backends_agree_on_odd_lengths()
    {
        using var a = new FortunaGenerator(useIntrinsics: true);
        using var b = new FortunaGenerator(useIntrinsics: false);
        a.Reseed(Seed);
        b.Reseed(Seed);
        foreach (int n in new[] { 1, 15, 16, 17, 127, 128, 129, 1000, 70_000 })
        {
            var x = new byte[n];
            var y = new byte[n];
            a.Generate(x);
            b.Generate(y);
            Assert.Equal(x, y);
        }
    }

    [Fact]
    public void Counter_carries_across_the_64_bit_boundary()
    {
        // A counter block is the full 128-bit value: check the carry against OpenSSL's own increment.
        byte[] key = SHA256.HashData("carry"u8);
        using var ks = new AesCtrKeystream(useIntrinsics: true);
        ks.SetKey(key);
        UInt128 counter = ulong.MaxValue - 3;
        var output = new byte[16 * 10];
        ks.Generate(ref counter, 10, output);
        Assert.Equal(OpenSslCtr(key, ulong.MaxValue - 3, output.Length), output);
        Assert.Equal((UInt128)ulong.MaxValue + 7, counter);
    }

    private static byte[] Sha256d(byte[] data) => SHA256.HashData(SHA256.HashData(data));

    internal static byte[] OpenSslCtr(byte[] key, UInt128 counter, int length)
    {
        string iv = ((ulong)(counter >> 64)).ToString("x16") + ((ulong)counter).ToString("x16");
        ExternalTool.Result r = ExternalTool.Run("openssl",
            ["enc", "-aes-256-ctr", "-nosalt", "-nopad", "-K", Convert.ToHexString(key), "-iv", iv],
            stdin: new byte[length]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(length, r.Stdout.Length);
        return r.Stdout;
    }
}
