using System.Text;

namespace Apps.Http.Service;

/// <summary>
/// Standard output through a 64 KiB buffer, written out every <see cref="FlushPeriod"/>, when full, on
/// <see cref="Flush"/> and on dispose. The console logger writes each line (one access-log line per request) with its
/// own write(2) and wakes its writer thread for each; buffered, the access log costs a fraction of a request.
/// </summary>
internal sealed class BufferedConsoleOutput : IDisposable
{
    /// <summary>How long a log line may wait in the buffer.</summary>
    public static readonly TimeSpan FlushPeriod = TimeSpan.FromMilliseconds(50);

    private readonly TextWriter _original;
    private readonly TextWriter _writer;
    private readonly ITimer _timer;

    private BufferedConsoleOutput(TimeProvider time)
    {
        _original = Console.Out;
        _writer = TextWriter.Synchronized(new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 64 * 1024) { AutoFlush = false });
        Console.SetOut(_writer);
        _timer = time.CreateTimer(static state => ((BufferedConsoleOutput)state!).Flush(), this, FlushPeriod, FlushPeriod);
    }

    /// <summary>Replaces <see cref="Console.Out"/> until disposed; install it before any logger is made (they keep the writer they find).</summary>
    public static BufferedConsoleOutput Install(TimeProvider? time = null) => new(time ?? TimeProvider.System);

    /// <summary>Writes out what is buffered now.</summary>
    public void Flush()
    {
        try
        {
            _writer.Flush();
        }
        catch (IOException)
        {
            // stdout was closed (the reader went away); there is no one left to tell.
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        Flush();
        Console.SetOut(_original);
    }
}
