using Apps.Stack.Wire;

namespace Apps.Stack.Tcp;

/// <summary>The 4-tuple naming a connection, seen from this host (local = our side).</summary>
public readonly record struct TcpTuple(Ipv4Address LocalAddress, ushort LocalPort, Ipv4Address RemoteAddress, ushort RemotePort)
{
    public override string ToString() => $"{LocalAddress}:{LocalPort}<->{RemoteAddress}:{RemotePort}";
}
