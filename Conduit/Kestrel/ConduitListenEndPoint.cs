using System.Net;

namespace Apps.Conduit.Kestrel;

/// <summary>
/// A Kestrel listen address served by the conduit's transport rather than Kestrel's sockets: pass it to
/// <c>KestrelServerOptions.Listen</c> and register <see cref="ConduitConnectionListenerFactory"/>.
/// </summary>
public sealed class ConduitListenEndPoint(IPEndPoint local) : EndPoint
{
    /// <summary>The address and port to bind (port 0 picks one; after binding Kestrel holds the real one).</summary>
    public IPEndPoint Local { get; } = local;

    public override System.Net.Sockets.AddressFamily AddressFamily => Local.AddressFamily;

    /// <summary>As <see cref="IPEndPoint"/> writes it, so Kestrel shows <c>http://127.0.0.1:8443</c>.</summary>
    public override string ToString() => Local.ToString();
}
