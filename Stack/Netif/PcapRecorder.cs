using System.Buffers.Binary;

namespace Apps.Stack.Netif;

/// <summary>
/// Wraps any <see cref="INetworkInterface"/> and writes every frame it sends and receives to a pcap
/// file (the classic libpcap format: microsecond timestamps, link type 1 = Ethernet) that tshark and
/// Wireshark read. Timestamps come from the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed class PcapRecorder : INetworkInterface
{
    /// <summary>Snapshot length written in the file header; longer frames are truncated in the file.</summary>
    public const int SnapLength = 65535;

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

    /// <inheritdoc/>
    public void Start(FrameReceiver receiver) => _inner.Start(frame =>
    {
        Record(frame);
        receiver(frame);
    });

    /// <inheritdoc/>
    public void Transmit(ReadOnlySpan<byte> frame)
    {
        Record(frame);
        _inner.Transmit(frame);
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
