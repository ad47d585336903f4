using System.Net;

namespace Apps.Stack.Tcp;

/// <summary>A TCP connection ended abnormally; <see cref="Error"/> says how.</summary>
public sealed class TcpConnectionException : IOException
{
    public TcpConnectionException(TcpError error, IPEndPoint remote, byte? unreachableCode = null) : base(Describe(error, remote, unreachableCode))
    {
        Error = error;
        UnreachableCode = unreachableCode;
    }

    public TcpError Error { get; }

    /// <summary>The last ICMP destination-unreachable code reported for the connection, if any.</summary>
    public byte? UnreachableCode { get; }

    private static string Describe(TcpError error, IPEndPoint remote, byte? code) => error switch
    {
        TcpError.ConnectionRefused when code is 2 or 3 => $"connection to {remote} refused: the host reported the {(code == 3 ? "port" : "protocol")} unreachable; check the port and that the server runs",
        TcpError.ConnectionRefused => $"connection to {remote} refused: nothing listens on that port; check the port and that the server runs",
        TcpError.ConnectionReset => $"connection to {remote} was reset by the peer; reconnect if the work was not finished",
        TcpError.TimedOut when code is 0 or 1 => $"connection to {remote} timed out: the {(code == 0 ? "network" : "host")} is unreachable (no ARP answer or no route); check the address and that the host is up",
        TcpError.TimedOut => $"connection to {remote} timed out: the peer stopped answering; check the network path and that the host is up",
        TcpError.Aborted => $"connection to {remote} was aborted by this application",
        _ => $"connection to {remote} ended",
    };
}
