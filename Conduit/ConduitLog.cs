using Microsoft.Extensions.Logging;

namespace Apps.Conduit;

/// <summary>The Conduit layer's log messages (fixed event IDs).</summary>
internal static partial class ConduitLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "TLS handshake with {Peer} failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string peer, string reason);
}
