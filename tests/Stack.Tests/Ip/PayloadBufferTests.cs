using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Ip;

public class PayloadBufferTests
{
    [Theory]
    [InlineData(1000)]
    [InlineData(1480)] // exactly the MTU
    public void A_payload_built_in_place_goes_out_as_the_same_frame_as_a_copied_one(int length)
    {
        var h = new InterfaceHarness();
        h.LearnPeer();
        var payload = new byte[length];
        new Random(length).NextBytes(payload);

        Assert.Equal(DropReason.None, h.Interface.Send(InterfaceHarness.Peer, IpProtocol.Udp, payload, h.Now));
        payload.CopyTo(h.Interface.PayloadBuffer);
        Assert.Equal(DropReason.None, h.Interface.Send(InterfaceHarness.Peer, IpProtocol.Udp, h.Interface.PayloadBuffer[..length], h.Now));

        Assert.Equal(2, h.Sent.Count);
        Assert.Equal(Normalized(h.Sent[0]), Normalized(h.Sent[1]));
        Assert.Equal(payload, h.Sent[1].AsSpan(EthernetHeader.Length + Ipv4Header.MinLength).ToArray());
    }

    [Fact]
    public void The_buffer_holds_exactly_one_unfragmented_payload()
    {
        var h = new InterfaceHarness(mtu: 1500);
        Assert.Equal(1500 - Ipv4Header.MinLength, h.Interface.PayloadBuffer.Length);
    }

    // The two datagrams differ only in their identification field and so in the header checksum.
    private static byte[] Normalized(byte[] frame)
    {
        var copy = (byte[])frame.Clone();
        int ip = EthernetHeader.Length;
        copy[ip + 4] = copy[ip + 5] = 0;
        copy[ip + 10] = copy[ip + 11] = 0;
        return copy;
    }
}
