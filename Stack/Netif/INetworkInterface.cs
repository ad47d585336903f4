namespace Apps.Stack.Netif;

/// <summary>Receives one inbound Ethernet frame; the span is valid only during the call.</summary>
public delegate void FrameReceiver(ReadOnlySpan<byte> frame);

/// <summary>
/// A link that carries Ethernet II frames: a Linux TAP device, a port of an <see cref="InMemorySwitch"/>,
/// or a wrapper such as <see cref="PcapRecorder"/>. The I/O shell under a <see cref="NetworkStack"/>.
/// </summary>
public interface INetworkInterface : IDisposable
{
    /// <summary>The link MTU: the largest IPv4 packet a frame can carry (1500 on Ethernet).</summary>
    int Mtu { get; }

    /// <summary>
    /// Starts delivering inbound frames to <paramref name="receiver"/>, from any thread, one at a time.
    /// Called once.
    /// </summary>
    void Start(FrameReceiver receiver);

    /// <summary>Sends one frame without blocking for long; a frame the link cannot take is dropped.</summary>
    void Transmit(ReadOnlySpan<byte> frame);
}
