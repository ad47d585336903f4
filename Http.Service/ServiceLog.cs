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

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "certificate reloaded from {Path}: key {Fingerprint}, valid until {NotAfter:yyyy-MM-dd} ({Change}); new connections get it")]
    public static partial void CertificateReloaded(ILogger logger, string path, string fingerprint, DateTimeOffset notAfter, string change);

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "certificate reload from {Path} refused: {Reason}; still serving key {Fingerprint}")]
    public static partial void CertificateReloadRefused(ILogger logger, string path, string reason, string fingerprint);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "certificate in {Path} (key {Fingerprint}) expires on {NotAfter:yyyy-MM-dd HH:mm} UTC; renew it, then send SIGHUP")]
    public static partial void CertificateExpiring(ILogger logger, string path, DateTimeOffset notAfter, string fingerprint);
}
