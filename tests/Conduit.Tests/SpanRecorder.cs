using System.Diagnostics;

namespace Apps.Conduit.Tests;

/// <summary>Records the <c>Apps.Conduit</c> activities that stop while it lives. Listeners are process-wide, so
/// tests pick their own spans out by endpoint or peer.</summary>
internal sealed class SpanRecorder : IDisposable
{
    private readonly List<Activity> _stopped = [];
    private readonly ActivityListener _listener;

    public SpanRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == ConduitTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (_stopped)
                {
                    _stopped.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The one stopped span named <paramref name="name"/> whose tag <paramref name="tag"/> is <paramref name="value"/>.</summary>
    public Activity Single(string name, string tag, string value)
    {
        lock (_stopped)
        {
            return Assert.Single(_stopped, a => a.OperationName == name && (string?)a.GetTagItem(tag) == value);
        }
    }

    /// <summary>The one span like <see cref="Single"/> that did not end in an error (retries may precede it).</summary>
    public Activity Succeeded(string name, string tag, string value)
    {
        lock (_stopped)
        {
            return Assert.Single(_stopped, a => a.OperationName == name && (string?)a.GetTagItem(tag) == value && a.Status != ActivityStatusCode.Error);
        }
    }

    public void Dispose() => _listener.Dispose();
}
