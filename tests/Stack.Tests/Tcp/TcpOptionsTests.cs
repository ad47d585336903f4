using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Tcp;

public class TcpOptionsTests
{
    private static TcpParseError Parse(string hex, out TcpOptions options) =>
        TcpOptions.TryParse(Convert.FromHexString(hex), out options);

    [Fact]
    public void Round_trips_every_option_kind()
    {
        var options = new TcpOptions
        {
            Timestamps = new TcpTimestamps(7, 9),
            Sack = new TcpSackBlocks([
                new TcpSackBlock(new TcpSeqNumber(100), new TcpSeqNumber(200)),
                new TcpSackBlock(new TcpSeqNumber(300), new TcpSeqNumber(400)),
                new TcpSackBlock(new TcpSeqNumber(500), new TcpSeqNumber(600)),
            ]),
        };
        Assert.Equal(40, options.Length);
        var bytes = new byte[options.Length];
        options.Emit(bytes);
        Assert.Equal(TcpParseError.None, TcpOptions.TryParse(bytes, out var parsed));
        Assert.Equal(options, parsed);
    }

    [Fact]
    public void Skips_unknown_options_by_length()
    {
        // kind 30 (MPTCP) length 4, then MSS 536.
        Assert.Equal(TcpParseError.None, Parse("1e04abcd02040218", out var options));
        Assert.Equal((ushort)536, options.MaxSegmentSize);
    }

    [Fact]
    public void Stops_at_end_of_option_list()
    {
        Assert.Equal(TcpParseError.None, Parse("0002040218", out var options));
        Assert.Null(options.MaxSegmentSize);
    }

    [Theory]
    [InlineData("02")]             // kind without length
    [InlineData("0200")]           // length zero would loop forever
    [InlineData("0201")]           // length one
    [InlineData("1e08abcd")]       // unknown option running past the end
    [InlineData("020305")]         // MSS of the wrong size
    [InlineData("030407ff")]       // window scale of the wrong size
    [InlineData("0403")]           // SACK-permitted of the wrong size
    [InlineData("080600000000")]   // timestamps of the wrong size
    [InlineData("050600000000")]   // SACK block not a multiple of 8
    [InlineData("0502")]           // SACK with no block
    public void Rejects_malformed_options(string hex)
    {
        Assert.Equal(TcpParseError.MalformedOption, Parse(hex, out _));
    }

    [Fact]
    public void Clamps_window_scale_to_fourteen()
    {
        Assert.Equal(TcpParseError.None, Parse("030320", out var options));
        Assert.Equal((byte)14, options.WindowScale);
    }

    [Fact]
    public void Keeps_at_most_four_sack_blocks()
    {
        // 5 blocks in a 42-byte option would exceed option space; the parser still only keeps 4.
        var body = string.Concat(Enumerable.Range(1, 4).Select(i => $"{i * 100:x8}{i * 100 + 50:x8}"));
        Assert.Equal(TcpParseError.None, Parse("0522" + body, out var options));
        Assert.Equal(4, options.Sack.Count);
        Assert.Equal(new TcpSeqNumber(450), options.Sack[3].Right);
    }
}
