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
}
