namespace Apps.Tls.Entropy;

/// <summary>
/// Source ids for <see cref="Fortuna.AddEvent"/>. Each source has its own id, so that its
/// events go round-robin over the pools independently of every other source (§9.5.6).
/// Ids 0-15 belong to the built-in sources; other layers take theirs from 16 up.
/// </summary>
public static class EntropySourceIds
{
    public const byte OperatingSystem = 0;
    public const byte CpuJitter = 1;
    public const byte HardwareRng = 2;
    public const byte HostDaemon = 3;
    public const byte SeedFile = 4;
    public const byte BouncyCastle = 5;

    /// <summary>Packet-arrival timestamps from the network stack.</summary>
    public const byte NetworkPackets = 16;

    /// <summary>Input timings from interactive applications (key presses).</summary>
    public const byte UserInput = 17;

    /// <summary>Connection timings from the connection layer.</summary>
    public const byte Connections = 18;
}
