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

    // One free block per thread, ahead of the shared queue: a block rented and returned on the same thread (a
    // request read and answered on one socket completion) costs no interlocked operation.
    [ThreadStatic]
    private static Block? t_cached;

    /// <inheritdoc/>
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        var block = t_cached;
        if (block is not null && block.Owner == this)
        {
            t_cached = null;
        }
        else if (_free.TryDequeue(out block))
        {
            Interlocked.Decrement(ref _freeCount);
        }
        else
        {
            return new Block(this);
        }
        block.Rented = 1;
        return block;
    }

    private void Return(Block block)
    {
        if (t_cached is null)
            t_cached = block;
        else if (Interlocked.Increment(ref _freeCount) <= MaxRetained)
            _free.Enqueue(block);
        else
            Interlocked.Decrement(ref _freeCount);
    }

    /// <summary>Lets the GC have the free blocks kept for reuse, for a process giving memory back once load stops;
    /// blocks in use and each thread's one cached block stay.</summary>
    /// <returns>How many blocks were let go.</returns>
    public int Trim()
    {
        var released = 0;
        while (_free.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _freeCount);
            released++;
        }

        return released;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(BlockMemoryPool owner) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
        public int Rented = 1;

        public BlockMemoryPool Owner => owner;

        public Memory<byte> Memory => _array;

        // Idempotent: only the first Dispose after a Rent gives the block back.
        public void Dispose()
        {
            if (Interlocked.Exchange(ref Rented, 0) == 1)
                owner.Return(this);
        }
    }
}
