using System.Diagnostics;
using System.Diagnostics.Metrics;
using Apps.Tls.Entropy;
using Apps.Tls.Entropy.Sources;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Tls.Tests.Entropy;

/// <summary>The Apps.Tls Meter and ActivitySource report reseeds, bytes and per-source events and failures.</summary>
public sealed class EntropyTelemetryTests
{
    private sealed class Source(string name, byte id, bool fail) : EntropySource
    {
        public override string Name => name;
        public override byte SourceId => id;
        public override TimeSpan Interval => TimeSpan.FromHours(1);
        public override ValueTask<int> GatherAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            fail ? throw new IOException("unplugged") : ValueTask.FromResult(32);
    }

    [Fact]
    public async Task Reseeds_bytes_events_and_failures_are_measured_and_reseeds_traced()
    {
        var measurements = new List<(string Instrument, long Value, string? Source)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Apps.Tls" && instrument.Name.StartsWith("apps.tls.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? source = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "source")
                {
                    source = tag.Value as string;
                }
            }
            lock (measurements)
            {
                measurements.Add((instrument.Name, value, source));
            }
        });
        listener.Start();
        var spans = new List<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Apps.Tls",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (spans) { spans.Add(a); } },
        };
        ActivitySource.AddActivityListener(activities);

        var time = new FakeTimeProvider();
        using var fortuna = new Fortuna(time);
        await using (var collector = new EntropyCollector(fortuna, [new Source("telemetry-good", 13, false), new Source("telemetry-bad", 14, true)], time))
        {
            await collector.StartAsync();
        }
        fortuna.Fill(new byte[2 << 20]);

        lock (measurements)
        {
            Assert.Contains(measurements, m => m.Instrument == "apps.tls.fortuna.reseeds");
            Assert.Equal(65, measurements.Count(m => m.Instrument == "apps.tls.entropy.events" && m.Source == "telemetry-good"));
            Assert.Contains(measurements, m => m.Instrument == "apps.tls.entropy.failures" && m.Source == "telemetry-bad");
            Assert.True(measurements.Where(m => m.Instrument == "apps.tls.fortuna.bytes_generated").Sum(m => m.Value) >= 2 << 20);
        }
        lock (spans)
        {
            Assert.Contains(spans, a => a.OperationName == "fortuna.reseed" && (long?)a.GetTagItem("fortuna.reseed") >= 1);
        }
    }
}
