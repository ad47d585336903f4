using System.Buffers.Binary;
using Apps.Stack.Netif;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// Wraps a real link (a TAP device) and, with a seeded generator, drops, duplicates and reorders the
/// IPv4/TCP frames crossing it in both directions (other frames pass untouched). Reordering holds a
/// frame back until the next one in the same direction has passed, or at most 2 ms.
/// </summary>
internal sealed class ImpairedInterface(INetworkInterface inner, int seed, double loss, double duplication, double reordering) : INetworkInterface
{
    private readonly Random _rng = new(seed);
    private readonly object _gate = new();
    private byte[]? _heldOut, _heldIn;
    private FrameReceiver? _receiver;
    private Timer? _release;

    public int Dropped, Duplicated, Reordered;

    public int Mtu => inner.Mtu;

    public void Start(FrameReceiver receiver)
    {
        _receiver = receiver;
        _release = new Timer(_ => ReleaseHeld(), null, TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(2));
        // Frames lose their offload metadata here: wrap a link opened without offloads.
        inner.Start((ReadOnlySpan<byte> frame, in FrameOffload _) =>
        {
            foreach (var f in Decide(frame, ref _heldIn)) receiver(f, default);
        });
    }

    private void ReleaseHeld()
    {
        byte[]? outbound, inbound;
        lock (_gate)
        {
            (outbound, _heldOut) = (_heldOut, null);
            (inbound, _heldIn) = (_heldIn, null);
        }
        if (outbound is not null) inner.Transmit(outbound);
        if (inbound is not null) _receiver?.Invoke(inbound, default);
    }

    public void Transmit(ReadOnlySpan<byte> frame)
    {
        foreach (var f in Decide(frame, ref _heldOut)) inner.Transmit(f);
    }

    private List<byte[]> Decide(ReadOnlySpan<byte> frame, ref byte[]? held)
    {
        var result = new List<byte[]>(3);
        bool tcp = frame.Length > 23 && BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == 0x0800 && frame[23] == 6;
        lock (_gate)
        {
            double roll = _rng.NextDouble();
            if (!tcp) result.Add(frame.ToArray());
            else if (roll < loss) Dropped++;
            else if (roll < loss + reordering && held is null)
            {
                held = frame.ToArray();
                Reordered++;
                return result;
            }
            else
            {
                result.Add(frame.ToArray());
                if (_rng.NextDouble() < duplication)
                {
                    result.Add(frame.ToArray());
                    Duplicated++;
                }
            }
            if (held is not null && result.Count > 0)
            {
                result.Add(held);
                held = null;
            }
        }
        return result;
    }

    public void Dispose()
    {
        _release?.Dispose();
        inner.Dispose();
    }
}
