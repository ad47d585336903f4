namespace Apps.Stack.Tests.Wire;

/// <summary>
/// Real frames captured on this machine with tshark (Linux kernel, socat, dnsmasq), as Ethernet frames.
/// Stored as hex so the test project needs no content files.
/// </summary>
internal static class Captures
{
    /// <summary>ARP request from Linux 6.x: who has 192.0.2.9? tell 192.0.2.1.</summary>
    public static byte[] ArpRequest => Convert.FromHexString(
        "ffffffffffff465e163d13ce08060001080006040001465e163d13cec0000201000000000000c0000209");

    /// <summary>ICMP echo request from Linux ping -s 8 -p 61626364 to 192.0.2.2.</summary>
    public static byte[] IcmpEchoRequest => Convert.FromHexString(
        "020000000002465e163d13ce080045000024ebab40004001cb29c0000201c000020208000f3f23f90001616263640000" +
        "0000");

    /// <summary>UDP 192.0.2.1:4000 -> 192.0.2.2:5353 "hi!" from socat on Linux (captured on the sending veth,
    /// where checksum offload leaves a partial sum: the UDP checksum field was completed by hand).</summary>
    public static byte[] UdpDatagram => Convert.FromHexString(
        "020000000002465e163d13ce08004500001fb236400040110494c0000201c00002020fa014e9000bcde1686921");

    /// <summary>DHCPOFFER from dnsmasq 2.90 (10.77.0.55, router 10.77.0.1, lease 600 s).</summary>
    public static byte[] DhcpOffer => Convert.FromHexString(
        "ffffffffffff7a968921b9e2080045c001482353000040114b450a4d0001ffffffff004300440134453302010600fedd" +
        "852200008000000000000a4d00370a4d000100000000164c2e98c1bd0000000000000000000000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
        "00000000000000000000000000000000000000000000000000000000000000000000000000006382536335010236040a" +
        "4d00013304000002583a040000012c3b040000020d0104ffffff001c040a4d00ff03040a4d0001ff0000000000000000" +
        "000000000000");
}
