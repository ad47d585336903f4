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

    /// <summary>
    /// A segment carrying more than <paramref name="segmentSize"/> (the connection's send MSS) bytes of
    /// data, sent only with <see cref="TcpSettings.SegmentOffloadSize"/>: the link cuts it into
    /// <paramref name="segmentSize"/>-byte segments (TSO) or delivers it whole. By default it is sent
    /// as one segment.
    /// </summary>
    void TransmitLarge(in TcpTuple tuple, in TcpHeader header, ReadOnlySpan<byte> payload, int segmentSize) =>
        Transmit(tuple, header, payload);
}
