namespace Apps.Stack.Tcp;

/// <summary>What happened to a connection since the application last looked (see <see cref="TcpControlBlock.TakeEvents"/>).</summary>
[Flags]
public enum TcpEvents
{
    None = 0,
    /// <summary>The three-way handshake completed.</summary>
    Established = 1,
    /// <summary>New bytes can be read.</summary>
    Readable = 2,
    /// <summary>Send-buffer space was freed.</summary>
    Writable = 4,
    /// <summary>The peer sent FIN: no more bytes will arrive after those buffered.</summary>
    PeerClosed = 8,
    /// <summary>The connection was reset (by the peer, or refused during connect).</summary>
    Reset = 16,
    /// <summary>Retransmissions or keep-alives went unanswered too long.</summary>
    TimedOut = 32,
    /// <summary>The connection reached CLOSED and its resources can be released.</summary>
    Closed = 64,
}

/// <summary>Why a connection ended abnormally.</summary>
public enum TcpError
{
    None,
    /// <summary>The peer answered our SYN with RST (nobody listening).</summary>
    ConnectionRefused,
    /// <summary>The peer reset an established connection.</summary>
    ConnectionReset,
    /// <summary>Retransmission (R2), SYN retries or keep-alive probes exhausted.</summary>
    TimedOut,
    /// <summary>The local application aborted the connection.</summary>
    Aborted,
}
