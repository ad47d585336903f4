using Microsoft.Extensions.Logging;

namespace Apps.Tls.Entropy;

/// <summary>Log messages of the entropy subsystem, with fixed event ids (1000-1099).</summary>
internal static partial class EntropyLog
{
    [LoggerMessage(1000, LogLevel.Warning, "Seed file {Path} has {Length} bytes instead of {Expected}; it was not used and will be rewritten")]
    private static partial void SeedFileInvalidCore(ILogger logger, string path, int length, int expected);

    internal static void SeedFileInvalid(ILogger? logger, string path, int length, int expected)
    {
        if (logger is not null && logger.IsEnabled(LogLevel.Warning))
        {
            SeedFileInvalidCore(logger, path, length, expected);
        }
    }

    [LoggerMessage(1001, LogLevel.Warning, "Entropy source {Source} failed ({Failures} in a row): {Reason}; it keeps being retried every {Interval}")]
    private static partial void SourceFailedCore(ILogger logger, string source, long failures, string reason, TimeSpan interval);

    internal static void SourceFailed(ILogger? logger, string source, long failures, string reason, TimeSpan interval)
    {
        if (logger is not null && logger.IsEnabled(LogLevel.Warning))
        {
            SourceFailedCore(logger, source, failures, reason, interval);
        }
    }

    [LoggerMessage(1002, LogLevel.Information, "Entropy source {Source} recovered after {Failures} failures")]
    private static partial void SourceRecoveredCore(ILogger logger, string source, long failures);

    internal static void SourceRecovered(ILogger? logger, string source, long failures)
    {
        if (logger is not null && logger.IsEnabled(LogLevel.Information))
        {
            SourceRecoveredCore(logger, source, failures);
        }
    }

    [LoggerMessage(1003, LogLevel.Information, "Entropy source {Source} is not used: {Reason}")]
    private static partial void SourceUnavailableCore(ILogger logger, string source, string reason);

    internal static void SourceUnavailable(ILogger? logger, string source, string reason)
    {
        if (logger is not null && logger.IsEnabled(LogLevel.Information))
        {
            SourceUnavailableCore(logger, source, reason);
        }
    }

    [LoggerMessage(1004, LogLevel.Error, "Could not write the seed file {Path}: {Reason}")]
    private static partial void SeedFileWriteFailedCore(ILogger logger, string path, string reason);

    internal static void SeedFileWriteFailed(ILogger? logger, string path, string reason)
    {
        if (logger is not null && logger.IsEnabled(LogLevel.Error))
        {
            SeedFileWriteFailedCore(logger, path, reason);
        }
    }
}
