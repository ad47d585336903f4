using System.Buffers.Binary;
using System.Globalization;

namespace Apps.Stack.Wire;

/// <summary>An IPv4 address held as a uint in host byte order.</summary>
public readonly record struct Ipv4Address(uint Value)
{
    public static Ipv4Address Any => new(0);

    public static Ipv4Address Parse(string text)
    {
        var parts = text.Split('.');
        if (parts.Length != 4) throw new FormatException($"'{text}' is not a dotted-quad IPv4 address");
        uint v = 0;
        foreach (var p in parts) v = (v << 8) | byte.Parse(p, CultureInfo.InvariantCulture);
        return new Ipv4Address(v);
    }

    public static Ipv4Address Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt32BigEndian(source));

    public bool TryWrite(Span<byte> destination) => BinaryPrimitives.TryWriteUInt32BigEndian(destination, Value);

    public override string ToString() =>
        $"{Value >> 24}.{(Value >> 16) & 0xFF}.{(Value >> 8) & 0xFF}.{Value & 0xFF}";
}
