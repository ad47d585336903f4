using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Apps.Tls.Tests.TestSupport;

/// <summary>A real peer (openssl, curl) run by a test; killed and reaped on dispose, even on failure.</summary>
internal sealed class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private ExternalProcess(Process process)
    {
        _process = process;
    }

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public static ExternalProcess Start(string file, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var result = new ExternalProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            lock (result._stdout)
            {
                result._stdout.AppendLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (result._stderr)
            {
                result._stderr.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Runs to completion with <paramref name="stdin"/> and returns the exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string file, IEnumerable<string> arguments, string stdin = "", int timeoutSeconds = 30, string? workingDirectory = null)
    {
        await using var process = Start(file, arguments, workingDirectory);
        await process._process.StandardInput.WriteAsync(stdin);
        process._process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        await process._process.WaitForExitAsync(timeout.Token);
        process._process.WaitForExit();
        return (process._process.ExitCode, process.Stdout, process.Stderr);
    }

    public StreamWriter StandardInput => _process.StandardInput;

    public async Task<int> WaitForExitAsync(int timeoutSeconds = 30)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        await _process.WaitForExitAsync(timeout.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until the peer prints a line containing <paramref name="marker"/> (s_server prints ACCEPT).</summary>
    public async Task WaitForOutputAsync(string marker, int timeoutSeconds = 20)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Watch(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data?.Contains(marker, StringComparison.Ordinal) == true)
            {
                seen.TrySetResult();
            }
        }

        _process.OutputDataReceived += Watch;
        _process.ErrorDataReceived += Watch;
        _process.Exited += (_, _) => seen.TrySetException(new InvalidOperationException($"peer exited early: {Stdout}{Stderr}"));
        _process.EnableRaisingEvents = true;
        try
        {
            if (!Stdout.Contains(marker, StringComparison.Ordinal) && !Stderr.Contains(marker, StringComparison.Ordinal))
            {
                await seen.Task.WaitAsync(TimeSpan.FromSeconds(timeoutSeconds));
            }
        }
        finally
        {
            _process.OutputDataReceived -= Watch;
            _process.ErrorDataReceived -= Watch;
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}

/// <summary>A temporary directory removed on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("apps-tls-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
