using System.Net;

namespace Apps.Http.Service;

/// <summary>What the command line asked for, checked.</summary>
internal sealed record ServiceSettings(
    IReadOnlyList<IPEndPoint> Listen,
    string? Root,
    string? CertificatePath,
    string? KeyPath,
    string? KeyPasswordPath,
    int? HttpPort,
    string DataDirectory,
    string? TracePath,
    Apps.Conduit.Transports.TransportSpec Stack,
    bool KestrelTls = false)
{
    /// <summary>Where the service listens when no <c>--listen</c> is given.</summary>
    public static readonly IPEndPoint DefaultListen = new(IPAddress.Loopback, 8443);

    /// <summary>Parses a <c>--listen</c> value: <c>ADDR:PORT</c>, <c>[V6]:PORT</c>, or a bare port on 127.0.0.1.</summary>
    public static bool TryParseListen(string text, out IPEndPoint endPoint, out string error)
    {
        error = "";
        if (int.TryParse(text, out var port) && port is >= 0 and <= 65535)
        {
            endPoint = new IPEndPoint(IPAddress.Loopback, port);
            return true;
        }

        if (IPEndPoint.TryParse(text, out var parsed) && parsed is not null
            && (text.Contains("]:", StringComparison.Ordinal) || (parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && text.Contains(':'))))
        {
            endPoint = parsed;
            return true;
        }

        endPoint = DefaultListen;
        error = $"--listen '{text}' is not ADDRESS:PORT; write e.g. 127.0.0.1:8443 or [::1]:8443";
        return false;
    }
}
