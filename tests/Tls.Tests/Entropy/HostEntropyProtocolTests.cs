using System.Buffers;
using Apps.Tls.Entropy.HostProtocol;

namespace Apps.Tls.Tests.Entropy;

/// <summary>Wire tests of the host entropy protocol: vectors, three-way feeding, hostile input.</summary>
public sealed class HostEntropyFrameTests
{
    private static readonly byte[] RequestVector = [0x01, 0x01, 0x00, 0x02, 0x00, 0x20]; // ask for 32
    private static readonly byte[] DataVector = [0x01, 0x02, 0x00, 0x03, 0xAA, 0xBB, 0xCC];
    private static readonly byte[] ErrorVector = [0x01, 0x03, 0x00, 0x07, 0x03, 0x00, 0x00, 0x01, 0xF4, (byte)'h', (byte)'i'];

    private static int Parse(ReadOnlySequence<byte> buffer, out HostEntropyFrame? frame)
    {
        FrameReadResult r = HostEntropyFrameReader.TryRead(buffer, out HostEntropyFrame f, out SequencePosition end, out _);
        frame = r == FrameReadResult.Frame ? f : null;
        return r == FrameReadResult.Frame ? (int)buffer.Slice(0, end).Length : 0;
    }

    [Fact]
    public void Deconstructs_a_request_fed_three_ways()
    {
        foreach (var (way, frame, consumed) in Feed.ThreeWays<HostEntropyFrame?>(RequestVector, Parse))
        {
            Assert.True(frame.HasValue, way);
            Assert.Equal(HostEntropyFrameType.Request, frame.Value.Type);
            Assert.Equal(32, frame.Value.RequestedBytes);
            Assert.Equal(RequestVector.Length, consumed);
        }
    }

    [Fact]
    public void Deconstructs_data_and_error_frames_fed_three_ways()
    {
        foreach (var (way, frame, consumed) in Feed.ThreeWays<HostEntropyFrame?>(DataVector, Parse))
        {
            Assert.Equal(new byte[] { 0xAA, 0xBB, 0xCC }, frame!.Value.Body.ToArray());
            Assert.Equal(DataVector.Length, consumed);
        }
        foreach (var (way, frame, consumed) in Feed.ThreeWays<HostEntropyFrame?>(ErrorVector, Parse))
        {
            Assert.Equal(HostEntropyError.RateLimited, frame!.Value.ErrorCode);
            Assert.Equal(TimeSpan.FromMilliseconds(500), frame.Value.RetryAfter);
            Assert.Equal("hi", frame.Value.ErrorText);
        }
    }

    [Fact]
    public void Constructs_the_same_bytes()
    {
        var w = new ArrayBufferWriter<byte>();
        HostEntropyFrame.WriteRequest(w, 32);
        Assert.Equal(RequestVector, w.WrittenSpan.ToArray());

        w.Clear();
        HostEntropyFrame.WriteData(w, 3, span => new byte[] { 0xAA, 0xBB, 0xCC }.CopyTo(span));
        Assert.Equal(DataVector, w.WrittenSpan.ToArray());

        w.Clear();
        HostEntropyFrame.WriteError(w, HostEntropyError.RateLimited, "hi", TimeSpan.FromMilliseconds(500));
        Assert.Equal(ErrorVector, w.WrittenSpan.ToArray());
    }

    [Fact]
    public void Truncated_frames_need_more_data_and_consume_nothing()
    {
        for (int i = 0; i < DataVector.Length; i++)
        {
            var buffer = new ReadOnlySequence<byte>(DataVector, 0, i);
            Assert.Equal(FrameReadResult.NeedMoreData, HostEntropyFrameReader.TryRead(buffer, out _, out SequencePosition end, out _));
            Assert.Equal(buffer.Start, end);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x02, 0x01, 0x00, 0x02, 0x00, 0x20 }, FrameReadResult.UnsupportedVersion, "version 2")]
    [InlineData(new byte[] { 0x47 }, FrameReadResult.UnsupportedVersion, "version 71")] // "GET /" from a confused HTTP client
    [InlineData(new byte[] { 0x01, 0x09, 0x00, 0x00 }, FrameReadResult.Malformed, "unknown frame type 0x09")]
    [InlineData(new byte[] { 0x01, 0x01, 0x00, 0x03 }, FrameReadResult.Malformed, "2-byte body")]
    [InlineData(new byte[] { 0x01, 0x02, 0xFF, 0xFF }, FrameReadResult.Malformed, "exceeds")]
    [InlineData(new byte[] { 0x01, 0x03, 0x00, 0x02 }, FrameReadResult.Malformed, "error frame")]
    public void Hostile_headers_are_refused_as_soon_as_they_are_seen(byte[] input, FrameReadResult expected, string why)
    {
        Assert.Equal(expected, HostEntropyFrameReader.TryRead(new ReadOnlySequence<byte>(input), out _, out _, out string? problem));
        Assert.Contains(why, problem);
    }

    [Fact]
    public void Random_garbage_never_escapes_as_an_exception()
    {
        var random = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] junk = new byte[random.Next(0, 40)];
            random.NextBytes(junk);
            if (junk.Length > 0 && random.Next(2) == 0)
            {
                junk[0] = 1; // get past the version check half of the time
            }
            FrameReadResult r = HostEntropyFrameReader.TryRead(new ReadOnlySequence<byte>(junk), out HostEntropyFrame f, out _, out _);
            if (r == FrameReadResult.Frame)
            {
                Assert.True(f.Body.Length <= HostEntropyFrame.MaxBodyLength);
            }
        }
    }
}

public sealed class HostEntropyServerSessionTests
{
    private static readonly SpanFiller Ones = span => span.Fill(1);

    private static List<HostEntropyFrame> Replies(ArrayBufferWriter<byte> output)
    {
        var frames = new List<HostEntropyFrame>();
        var rest = new ReadOnlySequence<byte>(output.WrittenMemory);
        while (HostEntropyFrameReader.TryRead(rest, out HostEntropyFrame f, out SequencePosition end, out _) == FrameReadResult.Frame)
        {
            frames.Add(f);
            rest = rest.Slice(end);
        }
        Assert.True(rest.IsEmpty);
        return frames;
    }

    private static byte[] Requests(params ushort[] counts)
    {
        var w = new ArrayBufferWriter<byte>();
        foreach (ushort c in counts)
        {
            HostEntropyFrame.WriteRequest(w, c);
        }
        return w.WrittenSpan.ToArray();
    }

    [Fact]
    public void Answers_pipelined_requests_in_order_and_leaves_a_partial_frame()
    {
        var session = new HostEntropyServerSession(new HostEntropyLimits(), Ones, TimeSpan.Zero);
        byte[] input = [.. Requests(16, 32), 0x01, 0x01];
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(SessionStep.Continue, session.Process(new ReadOnlySequence<byte>(input), TimeSpan.Zero, output, out SequencePosition consumed));
        Assert.Equal(12, new ReadOnlySequence<byte>(input).Slice(0, consumed).Length);
        List<HostEntropyFrame> replies = Replies(output);
        Assert.Equal([16, 32], replies.Select(r => r.Body.Length));
        Assert.All(replies, r => Assert.Equal(HostEntropyFrameType.Data, r.Type));
    }

    [Fact]
    public void Oversized_and_zero_requests_get_an_error_and_the_connection_stays()
    {
        var session = new HostEntropyServerSession(new HostEntropyLimits(MaxRequestBytes: 64), Ones, TimeSpan.Zero);
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(SessionStep.Continue, session.Process(new ReadOnlySequence<byte>(Requests(65, 0, 64)), TimeSpan.Zero, output, out _));
        List<HostEntropyFrame> replies = Replies(output);
        Assert.Equal(HostEntropyError.TooLarge, replies[0].ErrorCode);
        Assert.Contains("1 to 64 bytes, not 65", replies[0].ErrorText);
        Assert.Equal(HostEntropyError.TooLarge, replies[1].ErrorCode);
        Assert.Equal(64, replies[2].Body.Length);
    }

    [Fact]
    public void Rate_limit_refuses_with_retry_after_then_refills_with_time()
    {
        var limits = new HostEntropyLimits(MaxRequestBytes: 1000, RateBytesPerSecond: 1000, BurstBytes: 2000);
        var session = new HostEntropyServerSession(limits, Ones, TimeSpan.Zero);
        var output = new ArrayBufferWriter<byte>();
        session.Process(new ReadOnlySequence<byte>(Requests(1000, 1000, 1000)), TimeSpan.Zero, output, out _);
        List<HostEntropyFrame> replies = Replies(output);
        Assert.Equal(HostEntropyFrameType.Data, replies[0].Type);
        Assert.Equal(HostEntropyFrameType.Data, replies[1].Type);
        Assert.Equal(HostEntropyError.RateLimited, replies[2].ErrorCode);
        Assert.Equal(TimeSpan.FromSeconds(1), replies[2].RetryAfter);

        output.Clear();
        session.Process(new ReadOnlySequence<byte>(Requests(1000)), TimeSpan.FromMilliseconds(999), output, out _);
        Assert.Equal(HostEntropyError.RateLimited, Replies(output)[0].ErrorCode);
        output.Clear();
        session.Process(new ReadOnlySequence<byte>(Requests(1000)), TimeSpan.FromSeconds(1), output, out _);
        Assert.Equal(HostEntropyFrameType.Data, Replies(output)[0].Type);
        Assert.Equal(3000, session.BytesServed);
    }

    [Fact]
    public void Malformed_input_gets_an_error_frame_and_closes()
    {
        var session = new HostEntropyServerSession(new HostEntropyLimits(), Ones, TimeSpan.Zero);
        var output = new ArrayBufferWriter<byte>();
        byte[] input = [.. Requests(8), 0x01, 0x02, 0x00, 0x01, 0x00]; // a guest may not send data frames
        Assert.Equal(SessionStep.Close, session.Process(new ReadOnlySequence<byte>(input), TimeSpan.Zero, output, out _));
        List<HostEntropyFrame> replies = Replies(output);
        Assert.Equal(8, replies[0].Body.Length);
        Assert.Equal(HostEntropyError.Malformed, replies[1].ErrorCode);
    }

    [Fact]
    public void Failing_host_generator_is_reported_not_thrown()
    {
        var session = new HostEntropyServerSession(new HostEntropyLimits(), _ => throw new System.Security.Cryptography.CryptographicException("rng down"), TimeSpan.Zero);
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(SessionStep.Continue, session.Process(new ReadOnlySequence<byte>(Requests(8)), TimeSpan.Zero, output, out _));
        Assert.Equal(HostEntropyError.Unavailable, Replies(output)[0].ErrorCode);
    }
}
