using Apps.Stack.Netif;

namespace Apps.Stack.Tests.Interop;

/// <summary>
/// Lends a link to a stack without giving it away: everything passes through (offloads included), but
/// disposing the stack leaves the link open. A TAP device vanishes with its descriptor, and a server
/// that has not yet read our last datagram (dnsmasq and a DHCPRELEASE) then drops it for want of the
/// interface it came in on; the test's <see cref="KernelPeer"/> closes the device at the end instead.
/// </summary>
internal sealed class BorrowedInterface(INetworkInterface inner) : INetworkInterface
{
    public int Mtu => inner.Mtu;
    public LinkOffloads Offloads => inner.Offloads;
    public void Start(FrameReceiver receiver) => inner.Start(receiver);
    public void Transmit(ReadOnlySpan<byte> frame) => inner.Transmit(frame);
    public void Transmit(ReadOnlySpan<byte> frame, in FrameOffload offload) => inner.Transmit(frame, offload);
    public void Dispose() { }
}
