using System.Buffers;
using System.Collections.Concurrent;

namespace Apps.Stack;

/// <summary>
/// A memory pool of fixed-size blocks for the pipes between connections and applications (our TCP's, and
/// Conduit's over host sockets and under Kestrel). A block is rented on one thread (the application writing,
/// the loop or socket receiving) and returned on another (the reader), which defeats
/// <see cref="ArrayPool{T}.Shared"/>'s per-thread caches, and hundreds of connections at once exhaust its
/// per-core stacks, after which every rent is a new array for the GC; here every thread shares one queue.
/// Blocks live on the pinned object heap, as Kestrel's own pool's do: sockets pin them for every I/O.
/// </summary>
/// <remarks>At most <see cref="MaxRetained"/> free blocks are kept; beyond that, returned blocks go to the GC.</remarks>
public sealed class BlockMemoryPool : MemoryPool<byte>
{
    /// <summary>Size of every block.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>Free blocks kept for reuse (32 MiB): enough for a burst of a thousand connections.</summary>
    public const int MaxRetained = 2048;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;

    /// <summary>The pool every stack connection uses.</summary>
    public static new BlockMemoryPool Shared { get; } = new();

    /// <inheritdoc/>
    public override int MaxBufferSize => BlockSize;

    /// <inheritdoc/>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Rented = 1;
            return block;
        }
        return new Block(this);
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _freeCount) <= MaxRetained)
            _free.Enqueue(block);
        else
            Interlocked.Decrement(ref _freeCount);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(BlockMemoryPool owner) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
        public int Rented = 1;

        public Memory<byte> Memory => _array;

        // Idempotent: only the first Dispose after a Rent gives the block back.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref Rented, 0) == 1)
                owner.Return(this);
        }
    }
}
