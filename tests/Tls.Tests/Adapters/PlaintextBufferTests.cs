using System.Buffers;
using Apps.Tls.Adapters;

namespace Apps.Tls.Tests.Adapters;

/// <summary>The decrypted-data buffer starts empty and grows; what was written must read back intact across growth.</summary>
public class PlaintextBufferTests
{
    [Fact]
    public void Data_survives_growth_and_compaction_while_the_reader_lags()
    {
        var buffer = new PlaintextBuffer();
        var written = new List<byte>();
        var read = new List<byte>();
        var next = (byte)0;
        for (var round = 0; round < 40; round++)
        {
            // Engine side: a record's worth of plaintext, through GetMemory or GetSpan (both may grow the array).
            var size = 1000 + 397 * round;
            var target = round % 2 == 0 ? buffer.GetMemory(size).Span : buffer.GetSpan(size);
            Assert.True(target.Length >= size);
            for (var i = 0; i < size; i++)
            {
                target[i] = next;
                written.Add(next++);
            }

            buffer.Advance(size);

            // Application side: consume only part of it, as a line reader would.
            var sequence = buffer.Sequence;
            var take = (int)Math.Min(sequence.Length, 700 + 311 * round);
            read.AddRange(sequence.Slice(0, take).ToArray());
            buffer.Consume(buffer.OffsetOf(sequence.GetPosition(take)));
        }

        read.AddRange(buffer.Sequence.ToArray());
        Assert.Equal(written, read);
    }

    [Fact]
    public void A_new_buffer_holds_no_array_until_written()
    {
        var buffer = new PlaintextBuffer();
        Assert.Equal(0, buffer.Length);
        Assert.True(buffer.Sequence.IsEmpty);
        Assert.True(buffer.GetSpan().Length >= 1);
    }

    [Fact]
    public void Consuming_everything_gives_the_array_back_and_the_next_record_still_reads_back_intact()
    {
        var buffer = new PlaintextBuffer();
        for (var round = 0; round < 5; round++)
        {
            var record = Enumerable.Range(0, 3000).Select(i => (byte)(i * 7 + round)).ToArray();
            record.CopyTo(buffer.GetSpan(record.Length));
            buffer.Advance(record.Length);
            Assert.True(buffer.Capacity >= record.Length);

            var first = buffer.Sequence.Slice(0, 1000).ToArray();
            buffer.Consume(1000);
            Assert.True(buffer.Capacity > 0, "part of the data still waits: the array is kept");
            var rest = buffer.Sequence.ToArray();
            buffer.Consume(rest.Length);

            Assert.Equal(record, first.Concat(rest).ToArray());
            Assert.Equal(0, buffer.Capacity); // back in the pool
            Assert.True(buffer.Sequence.IsEmpty);
        }
    }
}
