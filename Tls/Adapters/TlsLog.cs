using Apps.Tls.Engine;
using Microsoft.Extensions.Logging;

namespace Apps.Tls.Adapters;

/// <summary>The TLS shell's log messages (STYLE C.18): fixed event IDs, source-generated, guarded.</summary>
internal static partial class TlsLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug,
        Message = "TLS {Role} handshake done: {Version} {CipherSuite}, ALPN {ApplicationProtocol}, SNI {ServerName}, resumed {Resumed}")]
    private static partial void HandshakeCompletedCore(
        ILogger logger, string role, TlsVersion version, string cipherSuite, string? applicationProtocol, string? serverName, bool resumed);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "TLS {Role} handshake failed ({Fault}): {Reason}")]
    private static partial void HandshakeFailedCore(ILogger logger, string role, string fault, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "TLS connection ended by an error ({Fault}): {Reason}")]
    private static partial void ConnectionFailedCore(ILogger logger, string fault, string reason);

    public static void HandshakeCompleted(ILogger? logger, bool client, TlsConnectionInfo info)
    {
        if (logger?.IsEnabled(LogLevel.Debug) == true)
        {
            HandshakeCompletedCore(logger, client ? "client" : "server", info.Version, info.CipherSuiteName,
                info.ApplicationProtocol, info.ServerName, info.Resumed);
        }
    }

    public static void HandshakeFailed(ILogger? logger, bool client, Exception error)
    {
        if (logger?.IsEnabled(LogLevel.Warning) == true)
        {
            HandshakeFailedCore(logger, client ? "client" : "server", FaultOf(error), error.Message);
        }
    }

    public static void ConnectionFailed(ILogger? logger, TlsException error)
    {
        if (logger?.IsEnabled(LogLevel.Warning) == true)
        {
            ConnectionFailedCore(logger, error.Fault.ToString(), error.Message);
        }
    }

    private static string FaultOf(Exception error) => error is TlsException tls ? tls.Fault.ToString() : error.GetType().Name;
}
