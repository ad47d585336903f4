namespace Apps.Stack;

/// <summary>
/// One batch of <see cref="StackLoop"/> work in arrival order: inbound frames, copied back to back into
/// blocks this inbox owns and reuses, and commands. Not thread-safe: the loop fills it under its lock
/// and empties it on its own thread after swapping it out.
/// </summary>
internal sealed class LoopInbox
{
    /// <summary>
    /// Frames share blocks of this size (room for a 64 KiB offload super-frame); a larger frame gets a
    /// block of its own.
    /// </summary>
    public const int BlockSize = 128 * 1024;

    /// <summary>Blocks kept after a batch for the next one (the rest go back to the GC).</summary>
    public const int RetainedBlocks = 16;

    private readonly List<Entry> _entries = [];
    private readonly List<byte[]> _blocks = [];
    private int _block;      // index of the block being filled
    private int _used;       // bytes used in it

    // A frame (Work null) lives in _blocks[Block] at [Offset, Offset + Length); ChecksumTrusted is the
    // link's FrameOffload.ChecksumTrusted.
    private readonly record struct Entry(Action<TimeSpan>? Work, int Block, int Offset, int Length, bool ChecksumTrusted = false);

    /// <summary>Items queued.</summary>
    public int Count => _entries.Count;

    public void AddFrame(ReadOnlySpan<byte> frame, bool checksumTrusted = false)
    {
        if (_blocks.Count == 0 || _used + frame.Length > _blocks[_block].Length)
            NextBlock(frame.Length);
        frame.CopyTo(_blocks[_block].AsSpan(_used));
        _entries.Add(new Entry(null, _block, _used, frame.Length, checksumTrusted));
        _used += frame.Length;
    }

    public void AddWork(Action<TimeSpan> work) => _entries.Add(new Entry(work, 0, 0, 0));

    /// <summary>Item <paramref name="index"/> when it is a frame (valid until <see cref="Clear"/>).</summary>
    public bool TryGetFrame(int index, out ReadOnlySpan<byte> frame) => TryGetFrame(index, out frame, out _);

    /// <summary>Item <paramref name="index"/> when it is a frame, with whether the link vouched for its checksum.</summary>
    public bool TryGetFrame(int index, out ReadOnlySpan<byte> frame, out bool checksumTrusted)
    {
        var entry = _entries[index];
        checksumTrusted = entry.ChecksumTrusted;
        if (entry.Work is not null)
        {
            frame = default;
            return false;
        }
        frame = _blocks[entry.Block].AsSpan(entry.Offset, entry.Length);
        return true;
    }

    /// <summary>Item <paramref name="index"/> when it is a command.</summary>
    public Action<TimeSpan> Work(int index) => _entries[index].Work!;

    /// <summary>Forgets every item and rewinds the blocks for reuse.</summary>
    public void Clear()
    {
        _entries.Clear();
        _block = 0;
        _used = 0;
        // Blocks of odd sizes (jumbo frames) and a burst's extra blocks are not worth keeping.
        for (int i = _blocks.Count - 1; i >= 0; i--)
            if (i >= RetainedBlocks || _blocks[i].Length != BlockSize)
                _blocks.RemoveAt(i);
        if (_entries.Capacity > 4096)
            _entries.Capacity = 4096;
    }

    private void NextBlock(int length)
    {
        if (_blocks.Count > 0)
            _block++;
        _used = 0;
        if (length > BlockSize)
        {
            _blocks.Insert(_block, new byte[length]);
            return;
        }
        if (_block == _blocks.Count)
            _blocks.Add(new byte[BlockSize]);
        else if (_blocks[_block].Length != BlockSize)
            _blocks.Insert(_block, new byte[BlockSize]);
    }
}
