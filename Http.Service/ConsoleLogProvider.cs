using Microsoft.Extensions.Logging;

namespace Apps.Http.Service;

/// <summary>
/// The service's log on standard output, one line per message as the simple console logger writes with SingleLine
/// (<c>info: Category[EventId] message</c>, an exception on the lines after), formatted and buffered on the caller's
/// thread. The console logger hands every message to its own thread and wakes it each time; with one access-log line
/// per request that cost more than the request. Lines leave with <see cref="BufferedConsoleOutput"/>'s flushes.
/// </summary>
internal sealed class ConsoleLogProvider(TextWriter output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, output);

    public void Dispose() => output.Flush();

    private sealed class Logger(string category, TextWriter output) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = $"{Label(logLevel)}: {category}[{eventId.Id}] {formatter(state, exception)}";
            output.WriteLine(exception is null ? line : line + Environment.NewLine + exception);
        }

        private static string Label(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
