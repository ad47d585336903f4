using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Wire;

public class InternetChecksumTests
{
    // RFC 1071 §3 worked example: the one's complement sum of these bytes is 0xddf2.
    private static readonly byte[] Rfc1071Example = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];

    // A real IPv4 header (checksum field 0xb861) as captured on the wire.
    private static readonly byte[] Ipv4Header =
    [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
        0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    [Fact]
    public void Rfc1071_example_sums_to_ddf2()
    {
        Assert.Equal(0xddf2u, InternetChecksum.Accumulate(0, Rfc1071Example) % 0xFFFF);
        Assert.Equal(0x220d, InternetChecksum.Compute(Rfc1071Example));
    }

    [Fact]
    public void Header_with_correct_checksum_verifies_to_zero()
    {
        Assert.Equal(0, InternetChecksum.Compute(Ipv4Header));
    }

    [Fact]
    public void Computing_over_zeroed_field_gives_the_captured_checksum()
    {
        var copy = (byte[])Ipv4Header.Clone();
        copy[10] = 0;
        copy[11] = 0;
        Assert.Equal(0xb861, InternetChecksum.Compute(copy));
    }

    [Fact]
    public void Odd_length_pads_last_byte_with_zero()
    {
        Assert.Equal(InternetChecksum.Compute([0x12, 0x34, 0x56, 0x00]), InternetChecksum.Compute([0x12, 0x34, 0x56]));
    }

    [Fact]
    public void Chained_accumulate_equals_one_pass_for_even_prefixes()
    {
        var data = new byte[1501];
        new Random(7).NextBytes(data);
        uint chained = InternetChecksum.Accumulate(InternetChecksum.Accumulate(0, data.AsSpan(0, 38)), data.AsSpan(38));
        Assert.Equal(InternetChecksum.Compute(data), InternetChecksum.Fold(chained));
    }

    [Fact]
    public void Matches_naive_16_bit_sum_for_every_length()
    {
        var random = new Random(11);
        for (int length = 0; length < 200; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            uint sum = 0;
            for (int i = 0; i < length; i += 2)
                sum += (uint)(data[i] << 8 | (i + 1 < length ? data[i + 1] : 0));
            while (sum >> 16 != 0)
                sum = (sum & 0xFFFF) + (sum >> 16);
            Assert.Equal((ushort)~sum, InternetChecksum.Compute(data));
        }
    }

    [Theory]
    [InlineData(63, 0)]
    [InlineData(1500, 0)]
    [InlineData(65535, 0)]
    [InlineData(65535, 0xFF)]
    [InlineData(2_500_001, 0xFF)] // past the vector loop's chunk of 1 MiB, every lane at its maximum
    public void Matches_naive_16_bit_sum_for_long_data(int length, int fill)
    {
        var data = new byte[length];
        if (fill == 0)
            new Random(length).NextBytes(data);
        else
            data.AsSpan().Fill((byte)fill);
        ulong sum = 0;
        for (int i = 0; i < length; i += 2)
            sum += (uint)(data[i] << 8 | (i + 1 < length ? data[i + 1] : 0));
        while (sum >> 16 != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        Assert.Equal((ushort)~sum, InternetChecksum.Compute(data));
        Assert.Equal((ushort)~sum, InternetChecksum.Fold(InternetChecksum.Accumulate(InternetChecksum.Accumulate(0, data.AsSpan(0, 32)), data.AsSpan(32))));
    }

    [Fact]
    public void Pseudo_header_sum_matches_summing_its_bytes()
    {
        var src = Ipv4Address.Parse("192.168.0.1");
        var dst = Ipv4Address.Parse("10.255.0.199");
        byte[] pseudo = [192, 168, 0, 1, 10, 255, 0, 199, 0, 17, 0x05, 0xDC];
        Assert.Equal(InternetChecksum.Compute(pseudo), InternetChecksum.Fold(InternetChecksum.PseudoHeader(src, dst, 17, 1500)));
    }
}
