using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

/// <summary>
/// Where the TCP cores put the segments they want sent. The implementation wraps the header and
/// payload into an IP datagram (computing the checksum); it must copy what it keeps, the payload
/// span is only valid during the call.
/// </summary>
public interface ITcpSegmentSink
{
    void Transmit(in TcpTuple tuple, in TcpHeader header, ReadOnlySpan<byte> payload);
}
