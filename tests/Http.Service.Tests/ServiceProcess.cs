using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Apps.Http.Service.Tests;

/// <summary>
/// The real service as a child process on 127.0.0.1 with a port the kernel picks and its own temporary data
/// directory; the start-up lines give the URL and the key pin. Disposing stops it (SIGTERM, then kill) and
/// deletes the directory.
/// </summary>
internal sealed partial class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly bool _ownsDataDirectory;

    private ServiceProcess(Process process, string dataDirectory, bool ownsDataDirectory)
    {
        _process = process;
        DataDirectory = dataDirectory;
        _ownsDataDirectory = ownsDataDirectory;
    }

    public string DataDirectory { get; }

    public int Port { get; private set; }

    /// <summary>The first address served.</summary>
    public string Host { get; private set; } = "127.0.0.1";

    public string BaseUrl => $"https://{Host}:{Port}";

    /// <summary>The OpenSSH-style fingerprint line's value.</summary>
    public string Fingerprint { get; private set; } = "";

    public string PinBase64 { get; private set; } = "";

    public int ProcessId => _process.Id;

    /// <summary>Everything the service wrote so far (stdout and stderr).</summary>
    public string Log
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>Waits until the log holds <paramref name="text"/> (the service writes its log in batches), up to 30 s.</summary>
    public async Task<string> WaitForLogAsync(string text)
    {
        for (var i = 0; i < 300 && !Log.Contains(text, StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        return Log;
    }

    /// <summary>Completes once the start-up lines are out (faults if the process exits first).</summary>
    public Task Ready { get; private set; } = Task.CompletedTask;

    public static async Task<ServiceProcess> StartAsync(string? dataDirectory = null, params string[] arguments)
    {
        var service = Launch(dataDirectory, arguments);
        try
        {
            await service.Ready.WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }

        return service;
    }

    /// <summary>Starts the process without waiting for <see cref="Ready"/> (for set-up that must happen meanwhile).</summary>
    public static ServiceProcess Launch(string? dataDirectory = null, params string[] arguments)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("https-test-").FullName;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Apps.Http.Service.dll"));
        start.ArgumentList.Add("--data-dir");
        start.ArgumentList.Add(dataDirectory);
        if (!arguments.Contains("--listen"))
        {
            start.ArgumentList.Add("--listen");
            start.ArgumentList.Add("127.0.0.1:0");
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the service");
        var service = new ServiceProcess(process, dataDirectory, owns);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                ready.TrySetException(new InvalidOperationException("the service exited during start-up:\n" + service.Log));
                return;
            }

            lock (service._lines)
            {
                service._lines.Add(line);
            }

            if (ServingLine().Match(line) is { Success: true } serving && service.Port == 0)
            {
                service.Host = serving.Groups[1].Value;
                service.Port = int.Parse(serving.Groups[2].Value);
            }

            if (KeyLine().Match(line) is { Success: true } key)
            {
                service.Fingerprint = key.Groups[1].Value;
                service.PinBase64 = key.Groups[2].Value;
            }

            // "certificate file ..." is the last line the service prints at start-up: only then is the log whole.
            if (line.StartsWith("certificate file ", StringComparison.Ordinal) && service.Fingerprint is { Length: > 0 })
            {
                ready.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                OnLine(e.Data);
            }
        };
        service.Ready = ready.Task;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>Sends a signal by name ("HUP", "TERM") with kill(1).</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString()])!;
        kill.WaitForExit();
    }

    /// <summary>Whether the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            Signal("TERM");
        }

        await _process.WaitForExitAsync().WaitAsync(timeout ?? TimeSpan.FromSeconds(40));
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await StopAsync();
            }
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
        }
        finally
        {
            _process.Dispose();
            if (_ownsDataDirectory)
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
        }
    }

    [GeneratedRegex(@"^serving https://(\S+):(\d+)/")]
    private static partial Regex ServingLine();

    [GeneratedRegex(@"^certificate key (SHA256:\S+) \(curl --pinnedpubkey sha256//(\S+)\)")]
    private static partial Regex KeyLine();
}
