using System.Buffers;

namespace Apps.Tls.Entropy.HostProtocol;

/// <summary>Limits a host entropy daemon applies to each guest connection.</summary>
/// <param name="MaxRequestBytes">The most bytes one request may ask for (at most 16 KiB).</param>
/// <param name="RateBytesPerSecond">The sustained rate each connection is served at.</param>
/// <param name="BurstBytes">The bytes a connection may take at once after being idle.</param>
public sealed record HostEntropyLimits(int MaxRequestBytes = 4096, int RateBytesPerSecond = 64 * 1024, int BurstBytes = 256 * 1024)
{
    /// <summary>Checks the limits are coherent (a caller's mistake otherwise).</summary>
    public void Validate()
    {
        if (MaxRequestBytes is < 1 or > HostEntropyFrame.MaxBodyLength)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestBytes), $"the maximum request is 1 to {HostEntropyFrame.MaxBodyLength} bytes");
        }
        if (RateBytesPerSecond < 1 || BurstBytes < MaxRequestBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(BurstBytes), "the rate must be positive and the burst at least one maximum request");
        }
    }
}

/// <summary>What the daemon's shell does after <see cref="HostEntropyServerSession.Process"/>.</summary>
public enum SessionStep
{
    /// <summary>Send the output and keep reading.</summary>
    Continue,
    /// <summary>Send the output, then close the connection.</summary>
    Close,
}

/// <summary>
/// The host side of one guest connection, sans-IO: bytes and the time in, reply frames out.
/// Each well-formed request gets one Data or Error frame, in order. A token bucket holds each
/// connection to <see cref="HostEntropyLimits.RateBytesPerSecond"/>; over it, requests are
/// refused with a retry-after time rather than queued, so a greedy guest costs the host nothing.
/// </summary>
public sealed class HostEntropyServerSession
{
    private readonly HostEntropyLimits _limits;
    private readonly SpanFiller _fill;
    private double _tokens;
    private TimeSpan _lastRefill;

    /// <param name="limits">Per-connection limits.</param>
    /// <param name="fill">Where the bytes come from (the host OS's generator).</param>
    /// <param name="now">A monotonic time at which the connection opened.</param>
    public HostEntropyServerSession(HostEntropyLimits limits, SpanFiller fill, TimeSpan now)
    {
        limits.Validate();
        _limits = limits;
        _fill = fill;
        _tokens = limits.BurstBytes;
        _lastRefill = now;
    }

    /// <summary>Requests answered with data so far.</summary>
    public long RequestsServed { get; private set; }

    /// <summary>Bytes served so far.</summary>
    public long BytesServed { get; private set; }

    /// <summary>
    /// Answers every whole frame in <paramref name="input"/>; a trailing partial frame is left
    /// unconsumed for the next call.
    /// </summary>
    public SessionStep Process(in ReadOnlySequence<byte> input, TimeSpan now, IBufferWriter<byte> output, out SequencePosition consumed)
    {
        ReadOnlySequence<byte> rest = input;
        consumed = input.Start;
        while (true)
        {
            FrameReadResult result = HostEntropyFrameReader.TryRead(rest, out HostEntropyFrame frame, out SequencePosition end, out string? problem);
            switch (result)
            {
                case FrameReadResult.NeedMoreData:
                    return SessionStep.Continue;
                case FrameReadResult.UnsupportedVersion:
                    HostEntropyFrame.WriteError(output, HostEntropyError.UnsupportedVersion, problem!);
                    consumed = input.End;
                    return SessionStep.Close;
                case FrameReadResult.Malformed:
                    HostEntropyFrame.WriteError(output, HostEntropyError.Malformed, problem!);
                    consumed = input.End;
                    return SessionStep.Close;
            }
            rest = rest.Slice(end);
            consumed = end;
            if (frame.Type != HostEntropyFrameType.Request)
            {
                HostEntropyFrame.WriteError(output, HostEntropyError.Malformed, $"a guest sends only request frames, not {frame.Type}");
                consumed = input.End;
                return SessionStep.Close;
            }
            Answer(frame.RequestedBytes, now, output);
        }
    }

    private void Answer(int count, TimeSpan now, IBufferWriter<byte> output)
    {
        if (count == 0 || count > _limits.MaxRequestBytes)
        {
            HostEntropyFrame.WriteError(output, HostEntropyError.TooLarge,
                $"a request asks for 1 to {_limits.MaxRequestBytes} bytes, not {count}");
            return;
        }
        Refill(now);
        if (count > _tokens)
        {
            var wait = TimeSpan.FromSeconds((count - _tokens) / _limits.RateBytesPerSecond);
            HostEntropyFrame.WriteError(output, HostEntropyError.RateLimited,
                $"over the rate limit of {_limits.RateBytesPerSecond} bytes/s; retry after {Math.Ceiling(wait.TotalMilliseconds)} ms", wait);
            return;
        }
        try
        {
            HostEntropyFrame.WriteData(output, count, _fill);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or EntropyNotSeededException)
        {
            HostEntropyFrame.WriteError(output, HostEntropyError.Unavailable, "the host's random generator failed; try again later", TimeSpan.FromSeconds(1));
            return;
        }
        _tokens -= count;
        RequestsServed++;
        BytesServed += count;
    }

    private void Refill(TimeSpan now)
    {
        TimeSpan elapsed = now - _lastRefill;
        if (elapsed > TimeSpan.Zero)
        {
            _tokens = Math.Min(_limits.BurstBytes, _tokens + elapsed.TotalSeconds * _limits.RateBytesPerSecond);
            _lastRefill = now;
        }
    }
}
