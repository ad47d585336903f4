namespace Apps.Stack.Netif;

/// <summary>
/// Faults a port of an <see cref="InMemorySwitch"/> applies to every frame it sends or receives.
/// Probabilities are 0..1 and drawn from the switch's seeded generator; times are virtual.
/// </summary>
public sealed record LinkImpairments
{
    /// <summary>A perfect link.</summary>
    public static LinkImpairments None { get; } = new();

    /// <summary>Probability a frame is lost.</summary>
    public double Loss { get; init; }

    /// <summary>Probability a frame is delivered twice.</summary>
    public double Duplication { get; init; }

    /// <summary>Probability a frame is held back by <see cref="ReorderDelay"/> so later frames overtake it.</summary>
    public double Reordering { get; init; }

    /// <summary>Extra delay of a reordered frame.</summary>
    public TimeSpan ReorderDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Fixed one-way latency.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Link rate in bits per second; 0 for unlimited. Frames queue behind each other.</summary>
    public long BitsPerSecond { get; init; }

    /// <summary>Largest IPv4 packet (frame minus the 14-byte header) the link carries; larger frames are dropped.</summary>
    public int Mtu { get; init; } = 1500;
}
