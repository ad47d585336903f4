using System.Net;

namespace Apps.Stack.Tcp;

/// <summary>A TCP connection ended abnormally; <see cref="Error"/> says how.</summary>
public sealed class TcpConnectionException : IOException
{
    public TcpConnectionException(TcpError error, IPEndPoint remote) : base(Describe(error, remote))
    {
        Error = error;
    }

    public TcpError Error { get; }

    private static string Describe(TcpError error, IPEndPoint remote) => error switch
    {
        TcpError.ConnectionRefused => $"connection to {remote} refused: nothing listens on that port; check the port and that the server runs",
        TcpError.ConnectionReset => $"connection to {remote} was reset by the peer; reconnect if the work was not finished",
        TcpError.TimedOut => $"connection to {remote} timed out: the peer stopped answering; check the network path and that the host is up",
        TcpError.Aborted => $"connection to {remote} was aborted by this application",
        _ => $"connection to {remote} ended",
    };
}
