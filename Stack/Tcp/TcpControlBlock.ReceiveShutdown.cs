namespace Apps.Stack.Tcp;

// RFC 9293 gives FIN-WAIT-2 no timer: after our FIN the peer may send for as long as it likes, and a
// half-closed connection whose application still reads must not be cut (Linux, likewise, bounds
// FIN-WAIT-2 only for sockets the application has let go). Once the application says it reads no
// more, nothing would end a FIN-WAIT-2 whose peer went silent, or one whose peer keeps probing the
// window that unread data closed. So from then on arriving data is acknowledged and discarded
// (the window stays open, the peer is not stuck probing), and FIN-WAIT-2 ends FinWait2Timeout after
// the later of that moment and entering it, whatever arrives meanwhile.
public sealed partial class TcpControlBlock
{
    private bool _receiveShutdown;

    /// <summary>True once the application said it will read no more (<see cref="ShutdownReceive"/>).</summary>
    public bool ReceiveShutDown => _receiveShutdown;

    /// <summary>
    /// The application will read no more: unread and later data is discarded (still acknowledged),
    /// and FIN-WAIT-2 is bounded by <see cref="TcpSettings.FinWait2Timeout"/> from now on.
    /// </summary>
    public void ShutdownReceive(TimeSpan now)
    {
        if (_receiveShutdown) return;
        _receiveShutdown = true;
        ReceiveTarget = null;
        DiscardReceived();
        if (State == TcpState.FinWait2) _closeDeadline = now + _settings.FinWait2Timeout;
        RequestPoll();
    }

    /// <summary>FIN-WAIT-2's limit on entering it: none while the application still reads.</summary>
    private TimeSpan? FinWait2Deadline(TimeSpan now) => _receiveShutdown ? now + _settings.FinWait2Timeout : null;

    private void DiscardReceived()
    {
        // Read() also sends the window update once enough room opened.
        while (Read(_scratch) > 0) { }
    }
}
