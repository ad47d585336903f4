namespace Apps.Stack.Tests.Loop;

public class BlockMemoryPoolTests
{
    [Fact]
    public void A_returned_block_is_rented_again_instead_of_a_new_one()
    {
        var pool = new BlockMemoryPool();
        var first = pool.Rent(100);
        var memory = first.Memory;
        first.Dispose();

        using var second = pool.Rent(BlockMemoryPool.BlockSize);
        Assert.True(second.Memory.Span.Overlaps(memory.Span));
        Assert.Equal(BlockMemoryPool.BlockSize, second.Memory.Length);
    }

    [Fact]
    public void Disposing_twice_returns_the_block_once()
    {
        var pool = new BlockMemoryPool();
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();

        using var a = pool.Rent();
        using var b = pool.Rent();
        Assert.False(a.Memory.Span.Overlaps(b.Memory.Span));
    }

    [Fact]
    public void Asking_for_more_than_a_block_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockMemoryPool().Rent(BlockMemoryPool.BlockSize + 1));
    }

    // The stack's pipes rent on the loop and return on the application's thread: such blocks must come back
    // through the shared queue (each thread keeps at most one for itself).
    [Fact]
    public async Task Blocks_returned_on_another_thread_are_rented_again()
    {
        var pool = new BlockMemoryPool();
        var rented = Enumerable.Range(0, 3).Select(_ => pool.Rent()).ToArray();
        var memories = rented.Select(b => b.Memory).ToArray();

        await Task.Factory.StartNew(() =>
        {
            foreach (var block in rented) block.Dispose();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        using var a = pool.Rent();
        using var b = pool.Rent();
        Assert.All(new[] { a, b }, block => Assert.Contains(memories, m => m.Span.Overlaps(block.Memory.Span)));
    }

    // An idle process gives memory back: the free blocks go to the GC, and renting afterwards makes new ones.
    [Fact]
    public void Trim_lets_the_free_blocks_go_but_keeps_those_in_use()
    {
        var pool = new BlockMemoryPool();
        using var inUse = pool.Rent();
        var returned = Enumerable.Range(0, 8).Select(_ => pool.Rent()).ToArray();
        var memories = returned.Select(b => b.Memory).ToArray();
        foreach (var block in returned) block.Dispose();

        var released = pool.Trim();

        // This thread may keep one returned block for itself; the rest went to the GC.
        Assert.InRange(released, 7, 8);
        var again = Enumerable.Range(0, 8).Select(_ => pool.Rent()).ToArray();
        Assert.InRange(again.Count(block => memories.Any(m => m.Span.Overlaps(block.Memory.Span))), 0, 1);
        Assert.All(again, block => Assert.False(block.Memory.Span.Overlaps(inUse.Memory.Span)));
        Assert.Equal(0, pool.Trim());
    }
}
