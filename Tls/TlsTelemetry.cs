using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Apps.Tls;

/// <summary>
/// The Tls layer's <see cref="Meter"/> and <see cref="ActivitySource"/>, both named
/// <c>Apps.Tls</c> (ARCHITECTURE.md, Observability). Listeners attach by name.
/// </summary>
internal static class TlsTelemetry
{
    internal const string Name = "Apps.Tls";

    internal static readonly ActivitySource Source = new(Name);

    internal static readonly Meter Meter = new(Name);
}
