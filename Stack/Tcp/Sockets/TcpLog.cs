using Microsoft.Extensions.Logging;

namespace Apps.Stack.Tcp;

/// <summary>Log events of TCP connections (fixed event ids 100-199, STYLE C.18).</summary>
internal static partial class TcpLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "TCP {Tuple}: established")]
    public static partial void Established(ILogger logger, TcpTuple tuple);

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "TCP {Tuple}: closed")]
    public static partial void Closed(ILogger logger, TcpTuple tuple);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "TCP {Tuple}: ended with {Error} (last ICMP unreachable code {Code})")]
    public static partial void Failed(ILogger logger, TcpTuple tuple, TcpError error, byte? code);
}
