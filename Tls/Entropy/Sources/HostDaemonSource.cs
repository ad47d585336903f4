using System.Buffers;
using Apps.Tls.Entropy.HostProtocol;

namespace Apps.Tls.Entropy.Sources;

/// <summary>
/// The guest side of the host entropy protocol: asks the host's <c>entropyd</c> for 32 bytes at
/// a time over a Unix socket, AF_VSOCK or a serial device, keeping the connection open between
/// polls and reconnecting after a failure.
/// </summary>
public sealed class HostDaemonSource : EntropySource, IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(5);

    private readonly HostEntropyAddress _address;
    private readonly TimeProvider _time;
    private Stream? _stream;
    private readonly byte[] _receive = new byte[HostEntropyFrame.HeaderLength + HostEntropyFrame.MaxBodyLength];

    public HostDaemonSource(HostEntropyAddress address, TimeProvider? time = null)
    {
        _address = address;
        _time = time ?? TimeProvider.System;
    }

    public override string Name => "host-daemon";

    public override byte SourceId => EntropySourceIds.HostDaemon;

    public override TimeSpan Interval => TimeSpan.FromSeconds(5);

    public override string Description => $"host entropy daemon at {_address}";

    /// <summary>Asks for <paramref name="destination"/>.Length bytes (1 to 16 KiB) in one request.</summary>
    public async ValueTask<int> RequestAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(ReplyTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            _stream ??= await _address.ConnectAsync(linked.Token).ConfigureAwait(false);
            var request = new ArrayBufferWriter<byte>(8);
            HostEntropyFrame.WriteRequest(request, checked((ushort)destination.Length));
            await _stream.WriteAsync(request.WrittenMemory, linked.Token).ConfigureAwait(false);
            await _stream.FlushAsync(linked.Token).ConfigureAwait(false);

            int filled = 0;
            while (true)
            {
                var sequence = new ReadOnlySequence<byte>(_receive, 0, filled);
                switch (HostEntropyFrameReader.TryRead(sequence, out HostEntropyFrame frame, out _, out string? problem))
                {
                    case FrameReadResult.Frame when frame.Type == HostEntropyFrameType.Data:
                        if (frame.Body.Length != destination.Length)
                        {
                            throw new EntropySourceException($"the host sent {frame.Body.Length} bytes for a request of {destination.Length}");
                        }
                        frame.Body.CopyTo(destination);
                        Array.Clear(_receive, 0, filled);
                        return frame.Body.Length;
                    case FrameReadResult.Frame when frame.Type == HostEntropyFrameType.Error:
                        if (frame.ErrorCode == HostEntropyError.RateLimited)
                        {
                            return 0;
                        }
                        throw new EntropySourceException($"the host refused: {frame.ErrorCode}: {frame.ErrorText}");
                    case FrameReadResult.Frame:
                        throw new EntropySourceException($"the host sent an unexpected {frame.Type} frame");
                    case FrameReadResult.Malformed or FrameReadResult.UnsupportedVersion:
                        throw new EntropySourceException($"the host's reply is malformed: {problem}");
                }
                int n = await _stream.ReadAsync(_receive.AsMemory(filled), linked.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new EntropySourceException("the host closed the connection");
                }
                filled += n;
            }
        }
        catch (Exception e)
        {
            await DropConnectionAsync().ConfigureAwait(false);
            if (e is EntropySourceException)
            {
                throw;
            }
            string reason = timeout.IsCancellationRequested ? $"no reply within {ReplyTimeout.TotalSeconds:0} s" : e.Message;
            throw new EntropySourceException($"host entropy daemon at {_address}: {reason}", e);
        }
    }

    public override ValueTask<int> GatherAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        RequestAsync(buffer[..Fortuna.MaxEventBytes], cancellationToken);

    public async ValueTask DisposeAsync() => await DropConnectionAsync().ConfigureAwait(false);

    private async ValueTask DropConnectionAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
            _stream = null;
        }
    }
}
