using Microsoft.Extensions.Logging;

namespace Apps.Http.Service;

/// <summary>The service's log messages (fixed event IDs).</summary>
internal static partial class ServiceLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Peer} \"{Method} {Path} {Protocol}\" {Status} {Bytes} {Milliseconds:F1}ms")]
    public static partial void Access(ILogger logger, string peer, string method, string path, string protocol, int status, long? bytes, double milliseconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "stopping: finishing requests in flight")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "idle after load: gave memory back, {BeforeMegabytes} MB resident to {AfterMegabytes} MB ({Milliseconds:F1} ms)")]
    public static partial void MemoryTrimmed(ILogger logger, long beforeMegabytes, long afterMegabytes, double milliseconds);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "idle after load: could not give memory back: {Reason}")]
    public static partial void MemoryTrimFailed(ILogger logger, string reason);
}
