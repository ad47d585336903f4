using System.Diagnostics;
using System.Text.Json;

namespace Apps.Http.Service;

/// <summary>
/// Writes the spans of every <c>Apps.*</c> layer (and ASP.NET Core's request spans) as Chrome trace-event
/// JSON: one complete ("X") event per activity, timestamps in microseconds, opened by Perfetto or
/// chrome://tracing. Events are written as activities stop; the array is closed on dispose (the format
/// also accepts an unclosed array, so a killed process still leaves a readable file).
/// </summary>
internal sealed class ChromeTraceWriter : IDisposable
{
    private readonly object _gate = new();
    private readonly FileStream _file;
    private readonly Utf8JsonWriter _json;
    private readonly ActivityListener _listener;
    private readonly int _pid = Environment.ProcessId;
    private bool _disposed;

    public ChromeTraceWriter(string path)
    {
        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
        _json = new Utf8JsonWriter(_file);
        _json.WriteStartArray();
        _json.Flush();
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("Apps.", StringComparison.Ordinal)
                || source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Write,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    private void Write(Activity activity)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _json.WriteStartObject();
            _json.WriteString("name", activity.DisplayName);
            _json.WriteString("cat", activity.Source.Name);
            _json.WriteString("ph", "X");
            _json.WriteNumber("ts", (activity.StartTimeUtc - DateTime.UnixEpoch).Ticks / 10.0);
            _json.WriteNumber("dur", activity.Duration.Ticks / 10.0);
            _json.WriteNumber("pid", _pid);
            _json.WriteNumber("tid", Environment.CurrentManagedThreadId);
            _json.WriteStartObject("args");
            foreach (var tag in activity.TagObjects)
            {
                _json.WriteString(tag.Key, tag.Value?.ToString());
            }

            if (activity.Status != ActivityStatusCode.Unset)
            {
                _json.WriteString("status", activity.Status.ToString());
                if (activity.StatusDescription is { } description)
                {
                    _json.WriteString("status_description", description);
                }
            }

            _json.WriteEndObject();
            _json.WriteEndObject();
            _json.Flush();
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _json.WriteEndArray();
            _json.Flush();
            _json.Dispose();
            _file.Dispose();
        }
    }
}
