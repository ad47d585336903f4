using System.Security.Cryptography;
using Apps.Stack.Wire;
using Microsoft.Extensions.Logging;

namespace Apps.Stack;

/// <summary>How a <see cref="NetworkStack"/> is set up.</summary>
public sealed class NetworkStackOptions
{
    /// <summary>A name for logs and the loop thread.</summary>
    public string Name { get; init; } = "stack";

    /// <summary>Our MAC address; null draws a locally administered one from <see cref="RandomBytes"/>.</summary>
    public MacAddress? MacAddress { get; init; }

    /// <summary>Static address configuration; null to stay unconfigured or to use DHCP.</summary>
    public Ipv4Settings? Address { get; init; }

    /// <summary>Run the DHCP client (RFC 2131) to obtain the address.</summary>
    public bool UseDhcp { get; init; }

    /// <summary>Host name sent in DHCP requests (option 12), or null.</summary>
    public string? HostName { get; init; }

    /// <summary>Clock for every timer; a FakeTimeProvider gives virtual time in tests.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Source of random bytes (IP identification, ports, DHCP xid, MAC); seeded in tests.</summary>
    public Action<Span<byte>> RandomBytes { get; init; } = RandomNumberGenerator.Fill;

    /// <summary>
    /// Receives each inbound packet's arrival timestamp (8 bytes, from <see cref="TimeProvider.GetTimestamp"/>)
    /// as an entropy event. Called on the interface's receive thread; must be quick and thread-safe.
    /// </summary>
    public Action<ReadOnlySpan<byte>>? Entropy { get; init; }

    /// <summary>Inbound frames queued for the loop before further ones are dropped.</summary>
    public int MaxQueuedFrames { get; init; } = 4096;

    /// <summary>
    /// Bytes of inbound frames queued for the loop before further ones are dropped: over an offloading
    /// TAP device a frame may be a 64 KiB super-frame, so the frame count alone would allow 256 MiB.
    /// </summary>
    public long MaxQueuedBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Datagrams a UDP socket holds before dropping new ones.</summary>
    public int UdpReceiveQueueLength { get; init; } = 256;

    /// <summary>Logging; null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
