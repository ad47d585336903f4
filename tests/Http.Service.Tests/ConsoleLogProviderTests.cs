using Microsoft.Extensions.Logging;

namespace Apps.Http.Service.Tests;

/// <summary>The service's own console log lines: the simple console logger's single-line shape, written on the caller's thread.</summary>
public sealed class ConsoleLogProviderTests
{
    [Fact]
    public void Access_line_reads_as_the_simple_console_logger_wrote_it()
    {
        var output = new StringWriter();
        using var provider = new ConsoleLogProvider(output);

        ServiceLog.Access(provider.CreateLogger("Apps.Http.Service.Access"), "127.0.0.1", "GET", "/a.txt", "HTTP/2", 200, 13, 1.5);

        Assert.Equal("info: Apps.Http.Service.Access[1] 127.0.0.1 \"GET /a.txt HTTP/2\" 200 13 1.5ms" + Environment.NewLine, output.ToString());
    }

    [Fact]
    public void Exception_follows_its_message_and_levels_keep_their_labels()
    {
        var output = new StringWriter();
        using var provider = new ConsoleLogProvider(output);
        var logger = provider.CreateLogger("Test");

        logger.LogWarning(new EventId(7), "careful");
        logger.LogError(new EventId(8), new InvalidOperationException("broken"), "failed");

        var lines = output.ToString().Split(Environment.NewLine);
        Assert.Equal("warn: Test[7] careful", lines[0]);
        Assert.Equal("fail: Test[8] failed", lines[1]);
        Assert.StartsWith("System.InvalidOperationException: broken", lines[2]);
        Assert.False(logger.IsEnabled(LogLevel.None));
    }
}
