namespace Apps.Stack.Tests.Loop;

public class LoopInboxTests
{
    [Fact]
    public void Frames_and_commands_come_out_in_arrival_order()
    {
        var inbox = new LoopInbox();
        var ran = new List<string>();
        inbox.AddFrame([1, 2, 3]);
        inbox.AddWork(_ => ran.Add("first"));
        inbox.AddFrame([4]);
        inbox.AddWork(_ => ran.Add("second"));

        var seen = new List<string>();
        for (int i = 0; i < inbox.Count; i++)
        {
            if (inbox.TryGetFrame(i, out var frame))
                seen.Add(Convert.ToHexString(frame));
            else
                inbox.Work(i)(TimeSpan.Zero);
        }

        Assert.Equal(["010203", "04"], seen);
        Assert.Equal(["first", "second"], ran);
    }

    [Fact]
    public void Frames_spanning_many_blocks_and_one_larger_than_a_block_keep_their_bytes()
    {
        var inbox = new LoopInbox();
        var frames = new List<byte[]>();
        var random = new Random(3);
        for (int i = 0; i < 200; i++)
        {
            var frame = new byte[i == 100 ? LoopInbox.BlockSize + 10 : 1514];
            random.NextBytes(frame);
            frames.Add(frame);
            inbox.AddFrame(frame);
        }

        for (int i = 0; i < frames.Count; i++)
        {
            Assert.True(inbox.TryGetFrame(i, out var frame));
            Assert.True(frame.SequenceEqual(frames[i]), $"frame {i} changed");
        }
    }

    [Fact]
    public void Cleared_inbox_is_empty_and_takes_new_frames()
    {
        var inbox = new LoopInbox();
        for (int i = 0; i < 100; i++)
            inbox.AddFrame(new byte[1500]);
        inbox.Clear();
        Assert.Equal(0, inbox.Count);

        inbox.AddFrame([9, 8, 7]);
        Assert.Equal(1, inbox.Count);
        Assert.True(inbox.TryGetFrame(0, out var frame));
        Assert.Equal(new byte[] { 9, 8, 7 }, frame.ToArray());
    }
}
