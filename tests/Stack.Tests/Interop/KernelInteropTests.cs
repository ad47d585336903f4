using Apps.Stack.Netif;
using Apps.Stack.Wire;

namespace Apps.Stack.Tests.Interop;

/// <summary>
/// Our stack against the Linux kernel over a TAP device in a namespace each test creates and deletes.
/// Real time (TimeProvider.System): these are interop tests, and they assert outcomes, not timings.
/// </summary>
public class KernelInteropTests
{
    private const string KernelAddress = "10.77.0.1";
    private const string OurAddress = "10.77.0.2";

    private static NetworkStack CreateStack(INetworkInterface netif, Ipv4Settings? address = null, bool dhcp = false) =>
        new(netif, new NetworkStackOptions { Name = "interop", Address = address, UseDhcp = dhcp });

    [Fact]
    public async Task Linux_ping_reaches_our_stack()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        using var stack = CreateStack(peer.Tap, Ipv4Settings.Parse($"{OurAddress}/24"));

        var r = await peer.ExecAsync($"ping -c 3 -i 0.2 -W 2 {OurAddress}");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("3 received", r.Stdout);
        Assert.Equal(3, stack.Interface.EchoRequestsAnswered);
    }

    [Fact]
    public async Task Our_stack_pings_linux_with_fragmented_echo()
    {
        await using var peer = await KernelPeer.CreateAsync($"{KernelAddress}/24");
        using var stack = CreateStack(peer.Tap, Ipv4Settings.Parse($"{OurAddress}/24"));

        var small = await stack.PingAsync(Ipv4Address.Parse(KernelAddress), TimeSpan.FromSeconds(5));
        var large = await stack.PingAsync(Ipv4Address.Parse(KernelAddress), TimeSpan.FromSeconds(5), dataLength: 6000);

        Assert.True(small >= TimeSpan.Zero);
        Assert.True(large >= TimeSpan.Zero);
    }
}
