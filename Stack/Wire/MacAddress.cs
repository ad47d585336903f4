using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Apps.Stack.Wire;

/// <summary>A 48-bit IEEE 802 MAC address, kept in the low 48 bits of a <see cref="ulong"/>.</summary>
public readonly struct MacAddress : IEquatable<MacAddress>
{
    /// <summary>Length on the wire, in bytes.</summary>
    public const int Length = 6;

    /// <summary>ff:ff:ff:ff:ff:ff.</summary>
    public static MacAddress Broadcast => new(0xFFFF_FFFF_FFFFUL);

    /// <summary>00:00:00:00:00:00 (the unknown target in an ARP request, RFC 826).</summary>
    public static MacAddress Zero => default;

    /// <summary>The address as a 48-bit number, first octet most significant.</summary>
    public ulong Value { get; }

    /// <summary>Wraps the low 48 bits of <paramref name="value"/>.</summary>
    public MacAddress(ulong value) => Value = value & 0xFFFF_FFFF_FFFFUL;

    /// <summary>True for ff:ff:ff:ff:ff:ff.</summary>
    public bool IsBroadcast => Value == 0xFFFF_FFFF_FFFFUL;

    /// <summary>True when the group bit (least significant bit of the first octet) is set.</summary>
    public bool IsMulticast => (Value & 0x0100_0000_0000UL) != 0;

    /// <summary>A locally administered unicast address from six random bytes (IEEE 802 U/L bit set, group bit clear).</summary>
    public static MacAddress LocallyAdministered(ReadOnlySpan<byte> random6)
    {
        Span<byte> b = stackalloc byte[Length];
        random6[..Length].CopyTo(b);
        b[0] = (byte)((b[0] & 0xFC) | 0x02);
        return Read(b);
    }

    /// <summary>Reads six bytes.</summary>
    public static MacAddress Read(ReadOnlySpan<byte> source) =>
        new((ulong)BinaryPrimitives.ReadUInt16BigEndian(source) << 32 | BinaryPrimitives.ReadUInt32BigEndian(source[2..]));

    /// <summary>Writes six bytes; the destination must hold them.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(Value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)Value);
    }

    /// <summary>Parses <c>02:00:5e:00:00:01</c> (colons or dashes).</summary>
    public static MacAddress Parse(string text) =>
        TryParse(text, out var mac) ? mac : throw new FormatException($"'{text}' is not a MAC address such as 02:00:5e:00:00:01");

    /// <summary>Parses six hex octets separated by ':' or '-'.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out MacAddress address)
    {
        address = default;
        if (text is null || text.Length != 17)
            return false;
        ulong value = 0;
        for (int i = 0; i < 6; i++)
        {
            if (i > 0 && text[i * 3 - 1] is not (':' or '-'))
                return false;
            if (!byte.TryParse(text.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte octet))
                return false;
            value = value << 8 | octet;
        }
        address = new MacAddress(value);
        return true;
    }

    /// <summary>Lower-case colon form.</summary>
    public override string ToString()
    {
        Span<byte> b = stackalloc byte[Length];
        Write(b);
        return string.Create(CultureInfo.InvariantCulture, $"{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}:{b[5]:x2}");
    }

    public bool Equals(MacAddress other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is MacAddress other && Equals(other);
    public override int GetHashCode() => Value.GetHashCode();
    public static bool operator ==(MacAddress left, MacAddress right) => left.Value == right.Value;
    public static bool operator !=(MacAddress left, MacAddress right) => left.Value != right.Value;
}
