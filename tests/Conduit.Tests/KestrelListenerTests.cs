using System.Net;
using System.Net.Sockets;
using Apps.Conduit.Kestrel;
using Apps.Conduit.Transports;
using Apps.Stack;
using Microsoft.AspNetCore.Connections.Features;

namespace Apps.Conduit.Tests;

/// <summary>What Kestrel gets from the conduit's connection listener.</summary>
public sealed class KestrelListenerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    // Kestrel's own pipes (HTTP/2 input, each stream's output) rent from the connection's memory pool; without one
    // they fall back to ArrayPool.Shared, which a burst of hundreds of connections exhausts (a new array each).
    [Fact]
    public async Task Accepted_connections_offer_kestrel_the_shared_block_pool()
    {
        var factory = new ConduitConnectionListenerFactory(new HostSocketTransport());
        await using var listener = await factory.BindAsync(new ConduitListenEndPoint(new IPEndPoint(IPAddress.Loopback, 0)));
        var bound = ((ConduitListenEndPoint)listener.EndPoint).Local;
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accepting = listener.AcceptAsync().AsTask();
        await peer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, bound.Port));

        await using var context = await accepting.WaitAsync(Patience) ?? throw new InvalidOperationException("listener stopped");

        Assert.Same(BlockMemoryPool.Shared, context.Features.Get<IMemoryPoolFeature>()?.MemoryPool);
    }
}
