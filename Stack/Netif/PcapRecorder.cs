using System.Buffers;
using System.Buffers.Binary;
using Apps.Stack.Wire;

namespace Apps.Stack.Netif;

/// <summary>
/// Wraps any <see cref="INetworkInterface"/> and writes every frame it sends and receives to a pcap
/// file (the classic libpcap format: microsecond timestamps, link type 1 = Ethernet) that tshark and
/// Wireshark read. Timestamps come from the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class PcapRecorder : INetworkInterface
{
    /// <summary>Snapshot length written in the file header; longer frames are truncated in the file.</summary>
    public const int SnapLength = 262144; // tcpdump's default: room for a 64 KiB offload super-frame

    private const uint Magic = 0xA1B2C3D4;
    private const uint LinkTypeEthernet = 1;

    private readonly INetworkInterface _inner;
    private readonly Stream _output;
    private readonly TimeProvider _time;
    private readonly bool _ownsStream;
    private readonly object _lock = new();
    private readonly byte[] _recordHeader = new byte[16];
    private bool _disposed;

    /// <summary>Records <paramref name="inner"/> into <paramref name="output"/>, writing the file header now.</summary>
    public PcapRecorder(INetworkInterface inner, Stream output, TimeProvider timeProvider, bool ownsStream = true)
    {
        _inner = inner;
        _output = output;
        _time = timeProvider;
        _ownsStream = ownsStream;
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0);   // thiszone: UTC
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], LinkTypeEthernet);
        _output.Write(header);
        _output.Flush();
    }

    /// <summary>Opens <paramref name="path"/> for writing and records into it.</summary>
    public static PcapRecorder ToFile(INetworkInterface inner, string path, TimeProvider timeProvider) =>
        new(inner, new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read), timeProvider);

    /// <summary>Frames written so far.</summary>
    public long FramesRecorded { get; private set; }

    /// <inheritdoc/>
    public int Mtu => _inner.Mtu;

    /// <summary>
    /// The wrapped link's offloads, passed through: frames are recorded as they cross the link, so a
    /// super-frame appears whole (cut at <see cref="SnapLength"/>) and a partial checksum as partial.
    /// </summary>
    public LinkOffloads Offloads => _inner.Offloads;

    /// <inheritdoc/>
    public void Start(FrameReceiver receiver) => _inner.Start((ReadOnlySpan<byte> frame, in FrameOffload offload) =>
    {
        Record(frame, offload);
        receiver(frame, offload);
    });

    /// <summary>The wrapped link's frame source, recording every frame read through it; null when it has none.</summary>
    public IFrameSource? FrameSource => _inner.FrameSource is { } inner ? _source ??= new RecordingSource(this, inner) : null;

    private RecordingSource? _source;

    private sealed class RecordingSource(PcapRecorder recorder, IFrameSource inner) : IFrameSource
    {
        private FrameReceiver? _last, _recording; // the receiver wrapped once, not per frame

        public int TryReceive(FrameReceiver receiver)
        {
            if (!ReferenceEquals(receiver, _last))
            {
                _last = receiver;
                _recording = (ReadOnlySpan<byte> frame, in FrameOffload offload) =>
                {
                    recorder.Record(frame, offload);
                    receiver(frame, offload);
                };
            }
            return inner.TryReceive(_recording!);
        }

        public void Wait() => inner.Wait();

        public void Interrupt() => inner.Interrupt();
    }

    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> frame)
    {
        Record(frame);
        _inner.Transmit(frame);
    }

    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> frame, in FrameOffload offload)
    {
        Record(frame, offload);
        _inner.Transmit(frame, offload);
    }

    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload, in FrameOffload offload)
    {
        var joined = ArrayPool<byte>.Shared.Rent(headers.Length + payload.Length);
        try
        {
            headers.CopyTo(joined);
            payload.CopyTo(joined.AsSpan(headers.Length));
            Record(joined.AsSpan(0, headers.Length + payload.Length), offload);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(joined);
        }
        _inner.Transmit(headers, payload, offload);
    }

    // A checksum left partial for the link (or by the kernel) is completed in the recorded copy, as it
    // is on the wire, so that the capture decodes cleanly; a super-frame is recorded whole.
    private void Record(ReadOnlySpan<byte> frame, in FrameOffload offload)
    {
        if (offload.ChecksumStart == 0 || offload.ChecksumStart + offload.ChecksumOffset + 2 > frame.Length)
        {
            Record(frame);
            return;
        }
        var copy = ArrayPool<byte>.Shared.Rent(frame.Length);
        try
        {
            var completed = copy.AsSpan(0, frame.Length);
            frame.CopyTo(completed);
            InternetChecksum.CompletePartial(completed[offload.ChecksumStart..], offload.ChecksumOffset);
            Record(completed);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private void Record(ReadOnlySpan<byte> frame)
    {
        var stamp = _time.GetUtcNow();
        long micros = (stamp - DateTimeOffset.UnixEpoch).Ticks / 10;
        int captured = Math.Min(frame.Length, SnapLength);
        lock (_lock)
        {
            if (_disposed)
                return;
            BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader, (uint)(micros / 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(4), (uint)(micros % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(8), (uint)captured);
            BinaryPrimitives.WriteUInt32LittleEndian(_recordHeader.AsSpan(12), (uint)frame.Length);
            _output.Write(_recordHeader);
            _output.Write(frame[..captured]);
            FramesRecorded++;
        }
    }

    /// <summary>Flushes buffered records to the file.</summary>
    public void Flush()
    {
        lock (_lock)
            if (!_disposed)
                _output.Flush();
    }

    /// <summary>Disposes the wrapped interface, then flushes and closes the file.</summary>
    public void Dispose()
    {
        _inner.Dispose();
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            _output.Flush();
            if (_ownsStream)
                _output.Dispose();
        }
    }
}
