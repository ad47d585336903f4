namespace Apps.Stack.Tcp;

/// <summary>Connection states of RFC 9293 §3.3.2 (LISTEN lives in <see cref="TcpEndpointTable"/>).</summary>
public enum TcpState
{
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}
