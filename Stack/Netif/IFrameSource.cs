namespace Apps.Stack.Netif;

/// <summary>
/// The inbound side of a link that the stack's loop reads itself, on its own thread, instead of a reader
/// thread pushing frames to it (<see cref="INetworkInterface.Start"/>): the run-to-completion shape of a
/// poll-mode driver. A frame is processed in the buffer it was read into, with no hand-over between threads,
/// and an idle loop sleeps in <see cref="Wait"/> until a frame or a command arrives.
/// </summary>
/// <remarks>
/// One thread (the loop) calls <see cref="TryReceive"/> and <see cref="Wait"/>; any thread may call
/// <see cref="Interrupt"/>. A link used this way is never started.
/// </remarks>
public interface IFrameSource
{
    /// <summary>
    /// Reads one waiting frame without blocking and hands it to <paramref name="receiver"/> on the calling
    /// thread (the span is valid only during that call). Returns how many bytes it read (a frame the link
    /// drops as malformed counts too), or 0 when no frame waits or the link is gone (the link says why).
    /// </summary>
    int TryReceive(FrameReceiver receiver);

    /// <summary>
    /// Blocks until a frame may be waiting or <see cref="Interrupt"/> was called; an interrupt that came
    /// before the call ends it at once. It may also return early for no reason; callers loop.
    /// </summary>
    void Wait();

    /// <summary>Ends the <see cref="Wait"/> in progress, or else the next one (any thread).</summary>
    void Interrupt();
}
