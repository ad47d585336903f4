using System.Net.Sockets;

namespace Apps.Tls.Entropy.Sources;

/// <summary>How a guest reaches the host entropy daemon.</summary>
public enum HostEntropyTransport
{
    /// <summary>A Unix domain socket (a container, or a VM whose host forwards one in).</summary>
    Unix,
    /// <summary>AF_VSOCK: a VM talking to its hypervisor host (CID 2) without networking.</summary>
    Vsock,
    /// <summary>A serial or console device (virtio-console, a pty) already wired to the daemon.</summary>
    Serial,
}

/// <summary>
/// The address of a host entropy daemon: <c>unix:/run/entropyd.sock</c>, <c>vsock:2:5000</c>
/// (CID:port) or <c>serial:/dev/hvc1</c>.
/// </summary>
public sealed record HostEntropyAddress(HostEntropyTransport Transport, string Path, uint Cid, uint Port)
{
    /// <summary>The CID of the hypervisor host (VMADDR_CID_HOST).</summary>
    public const uint HostCid = 2;

    /// <summary>Parses an address; throws <see cref="FormatException"/> with the accepted forms.</summary>
    public static HostEntropyAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.IndexOf(':');
        string scheme = colon < 0 ? "" : text[..colon];
        string rest = colon < 0 ? text : text[(colon + 1)..];
        switch (scheme)
        {
            case "unix" when rest.Length > 0:
                return new HostEntropyAddress(HostEntropyTransport.Unix, rest, 0, 0);
            case "serial" when rest.Length > 0:
                return new HostEntropyAddress(HostEntropyTransport.Serial, rest, 0, 0);
            case "vsock":
                string[] parts = rest.Split(':');
                if (parts.Length == 2 && uint.TryParse(parts[0], out uint cid) && uint.TryParse(parts[1], out uint port))
                {
                    return new HostEntropyAddress(HostEntropyTransport.Vsock, "", cid, port);
                }
                break;
        }
        throw new FormatException($"'{text}' is not a host entropy address; use unix:PATH, vsock:CID:PORT or serial:DEVICE");
    }

    /// <summary>Opens a byte stream to the daemon.</summary>
    public async Task<Stream> ConnectAsync(CancellationToken cancellationToken)
    {
        switch (Transport)
        {
            case HostEntropyTransport.Unix:
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
            case HostEntropyTransport.Vsock:
                return new NetworkStream(await VsockSocket.ConnectAsync(Cid, Port, cancellationToken).ConfigureAwait(false), ownsSocket: true);
            default:
                return new FileStream(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0, useAsync: false);
        }
    }

    public override string ToString() => Transport switch
    {
        HostEntropyTransport.Unix => $"unix:{Path}",
        HostEntropyTransport.Vsock => $"vsock:{Cid}:{Port}",
        _ => $"serial:{Path}",
    };
}

/// <summary>AF_VSOCK constants.</summary>
public static class VsockEndPoint
{
    /// <summary>VMADDR_CID_ANY, for listening.</summary>
    public const uint AnyCid = uint.MaxValue;
}
