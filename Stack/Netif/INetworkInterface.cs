using System.Buffers;

namespace Apps.Stack.Netif;

/// <summary>
/// Receives one inbound Ethernet frame; the span is valid only during the call. <paramref name="offload"/>
/// says whether the link vouches for its transport checksum (default: it does not).
/// </summary>
public delegate void FrameReceiver(ReadOnlySpan<byte> frame, in FrameOffload offload);

/// <summary>
/// A link that carries Ethernet II frames: a Linux TAP device, a port of an <see cref="InMemorySwitch"/>,
/// or a wrapper such as <see cref="PcapRecorder"/>. The I/O shell under a <see cref="NetworkStack"/>.
/// </summary>
public interface INetworkInterface : IDisposable
{
    /// <summary>The link MTU: the largest IPv4 packet a frame can carry (1500 on Ethernet).</summary>
    int Mtu { get; }

    /// <summary>
    /// Checksum and segmentation offloads the link performs for frames sent with
    /// <see cref="Transmit(ReadOnlySpan{byte}, in FrameOffload)"/>. A wrapper that does not pass offload
    /// requests through reports <see cref="LinkOffloads.None"/>.
    /// </summary>
    LinkOffloads Offloads => LinkOffloads.None;

    /// <summary>
    /// Starts delivering inbound frames to <paramref name="receiver"/>, from any thread, one at a time.
    /// Called once, and not at all when the stack reads the link through <see cref="FrameSource"/>. A link
    /// without offloads delivers every frame with a default <see cref="FrameOffload"/>.
    /// </summary>
    void Start(FrameReceiver receiver);

    /// <summary>
    /// The link's inbound frames for a stack loop that reads them itself (a TAP device's descriptor), or
    /// null (the default) when the link pushes them through <see cref="Start"/> (a switch port).
    /// </summary>
    IFrameSource? FrameSource => null;

    /// <summary>Sends one frame without blocking for long; a frame the link cannot take is dropped.</summary>
    void Transmit(ReadOnlySpan<byte> frame);

    /// <summary>
    /// Sends one frame with offload requests (a partial checksum, segmentation) the link announced in
    /// <see cref="Offloads"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The frame asks for an offload this link does not perform.</exception>
    void Transmit(ReadOnlySpan<byte> frame, in FrameOffload offload)
    {
        if (offload.NeedsLink)
            throw new NotSupportedException("this link performs no checksum or segmentation offload; send complete frames");
        Transmit(frame);
    }

    /// <summary>
    /// Sends one frame given in two parts: its <paramref name="headers"/>, then the <paramref name="payload"/>
    /// where it lies (a TCP send buffer), so that a link that gathers (a TAP device's writev) copies it once.
    /// Any other link gets the two parts joined.
    /// </summary>
    void Transmit(ReadOnlySpan<byte> headers, ReadOnlySpan<byte> payload, in FrameOffload offload)
    {
        if (payload.IsEmpty)
        {
            Transmit(headers, offload);
            return;
        }
        var frame = ArrayPool<byte>.Shared.Rent(headers.Length + payload.Length);
        try
        {
            headers.CopyTo(frame);
            payload.CopyTo(frame.AsSpan(headers.Length));
            Transmit(frame.AsSpan(0, headers.Length + payload.Length), offload);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }
}
