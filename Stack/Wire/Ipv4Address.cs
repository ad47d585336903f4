using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Apps.Stack.Wire;

/// <summary>
/// An IPv4 address as a 32-bit value in host byte order (RFC 791 §3.2). The compact form used on the
/// hot path; convert with <see cref="FromIPAddress"/> / <see cref="ToIPAddress"/> at the API edge.
/// </summary>
public readonly struct Ipv4Address : IEquatable<Ipv4Address>, IComparable<Ipv4Address>
{
    /// <summary>Length of an address on the wire, in bytes.</summary>
    public const int Length = 4;

    /// <summary>0.0.0.0, "this host" / unspecified (RFC 1122 §3.2.1.3).</summary>
    public static Ipv4Address Any => default;

    /// <summary>255.255.255.255, the limited broadcast address (RFC 919).</summary>
    public static Ipv4Address Broadcast => new(uint.MaxValue);

    /// <summary>The address as a number, most significant octet first (host order).</summary>
    public uint Value { get; }

    /// <summary>Wraps a host-order 32-bit value.</summary>
    public Ipv4Address(uint value) => Value = value;

    /// <summary>Builds an address from its four octets, a.b.c.d.</summary>
    public Ipv4Address(byte a, byte b, byte c, byte d) => Value = (uint)(a << 24 | b << 16 | c << 8 | d);

    /// <summary>True for 0.0.0.0.</summary>
    public bool IsAny => Value == 0;

    /// <summary>True for 255.255.255.255.</summary>
    public bool IsBroadcast => Value == uint.MaxValue;

    /// <summary>True for 224.0.0.0/4 (RFC 5771).</summary>
    public bool IsMulticast => (Value & 0xF000_0000) == 0xE000_0000;

    /// <summary>True for 127.0.0.0/8.</summary>
    public bool IsLoopback => (Value >> 24) == 127;

    /// <summary>The netmask with <paramref name="prefixLength"/> leading one bits (0..32).</summary>
    public static Ipv4Address MaskFromPrefix(int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return new Ipv4Address(prefixLength == 0 ? 0u : uint.MaxValue << (32 - prefixLength));
    }

    /// <summary>True when this address and <paramref name="other"/> agree on every bit of <paramref name="mask"/>.</summary>
    public bool IsInSameSubnet(Ipv4Address other, Ipv4Address mask) => ((Value ^ other.Value) & mask.Value) == 0;

    /// <summary>Reads an address from the first four bytes of <paramref name="source"/> (network order).</summary>
    /// <exception cref="ArgumentOutOfRangeException">When fewer than four bytes are given.</exception>
    public static Ipv4Address Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt32BigEndian(source));

    /// <summary>Writes the address in network order into the first four bytes of <paramref name="destination"/>.</summary>
    /// <returns>False, writing nothing, when the destination is shorter than four bytes.</returns>
    public bool TryWrite(Span<byte> destination) => BinaryPrimitives.TryWriteUInt32BigEndian(destination, Value);

    /// <summary>Writes the address in network order; the destination must hold four bytes.</summary>
    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Value);

    /// <summary>Parses dotted-quad text such as <c>192.0.2.1</c>.</summary>
    /// <exception cref="FormatException">When the text is not four decimal octets 0..255 separated by dots.</exception>
    public static Ipv4Address Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not an IPv4 address in dotted-quad form such as 192.0.2.1");

    /// <summary>Parses dotted-quad text; returns false on anything else (no shorthand forms, no whitespace).</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out Ipv4Address address)
    {
        address = default;
        if (text is null || text.Length is < 7 or > 15)
            return false;
        uint value = 0;
        int octets = 0, digits = 0, octet = 0;
        foreach (char c in text)
        {
            if (c == '.')
            {
                if (digits == 0 || octets == 3)
                    return false;
                value = value << 8 | (uint)octet;
                octets++;
                digits = 0;
                octet = 0;
            }
            else if (c is >= '0' and <= '9')
            {
                if (++digits > 3)
                    return false;
                octet = octet * 10 + (c - '0');
                if (octet > 255)
                    return false;
            }
            else
            {
                return false;
            }
        }
        if (digits == 0 || octets != 3)
            return false;
        address = new Ipv4Address(value << 8 | (uint)octet);
        return true;
    }

    /// <summary>Converts from <see cref="IPAddress"/>; it must be an IPv4 address.</summary>
    /// <exception cref="ArgumentException">When the address is not IPv4.</exception>
    public static Ipv4Address FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written) || written != Length)
            throw new ArgumentException($"{address} is not an IPv4 address; this stack speaks IPv4 only", nameof(address));
        return Read(bytes);
    }

    /// <summary>Converts to <see cref="IPAddress"/>.</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[Length];
        Write(bytes);
        return new IPAddress(bytes);
    }

    /// <summary>Dotted-quad text, e.g. <c>192.0.2.1</c>.</summary>
    public override string ToString() => $"{Value >> 24}.{(Value >> 16) & 0xFF}.{(Value >> 8) & 0xFF}.{Value & 0xFF}";

    public bool Equals(Ipv4Address other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is Ipv4Address other && Equals(other);
    public override int GetHashCode() => (int)Value;
    public int CompareTo(Ipv4Address other) => Value.CompareTo(other.Value);
    public static bool operator ==(Ipv4Address left, Ipv4Address right) => left.Value == right.Value;
    public static bool operator !=(Ipv4Address left, Ipv4Address right) => left.Value != right.Value;
}
