using System.Buffers.Binary;
using System.Text;

namespace Apps.Stack.Wire;

/// <summary>DHCP message types, option 53 (RFC 2132 §9.6).</summary>
public enum DhcpMessageType : byte
{
    /// <summary>Client looks for servers.</summary>
    Discover = 1,
    /// <summary>Server offers an address.</summary>
    Offer = 2,
    /// <summary>Client requests (selects, renews, rebinds).</summary>
    Request = 3,
    /// <summary>Client declines an address in use.</summary>
    Decline = 4,
    /// <summary>Server commits the lease.</summary>
    Ack = 5,
    /// <summary>Server refuses.</summary>
    Nak = 6,
    /// <summary>Client gives the address back.</summary>
    Release = 7,
}

/// <summary>
/// A DHCPv4 message (RFC 2131 §2, Figure 1) with the options this client uses (RFC 2132). Unknown
/// options are skipped; option overload of sname/file (option 52) is not honoured.
/// </summary>
/// <remarks>
/// Grammar (RFC 2131 §2): op htype hlen hops xid(4) secs(2) flags(2) ciaddr yiaddr siaddr giaddr
/// chaddr(16) sname(64) file(128) magic-cookie(99.130.83.99) options as code, length, value;
/// 0 is a one-byte pad and 255 ends the list.
/// </remarks>
public sealed record DhcpMessage
{
    /// <summary>The fixed part plus the magic cookie.</summary>
    public const int FixedLength = 240;

    /// <summary>BOOTP op: 1 request, 2 reply.</summary>
    public byte Op { get; init; }
    /// <summary>Transaction id chosen by the client.</summary>
    public uint TransactionId { get; init; }
    /// <summary>Seconds since the client began acquiring or renewing.</summary>
    public ushort Seconds { get; init; }
    /// <summary>The broadcast flag: ask servers to broadcast their replies (RFC 2131 §4.1).</summary>
    public bool Broadcast { get; init; }
    /// <summary>ciaddr: the client's address when it already has one (renewing, rebinding).</summary>
    public Ipv4Address ClientAddress { get; init; }
    /// <summary>yiaddr: the address offered or assigned.</summary>
    public Ipv4Address YourAddress { get; init; }
    /// <summary>siaddr: next server.</summary>
    public Ipv4Address NextServer { get; init; }
    /// <summary>giaddr: relay agent.</summary>
    public Ipv4Address RelayAgent { get; init; }
    /// <summary>chaddr: the client's MAC address.</summary>
    public MacAddress ClientHardware { get; init; }
    /// <summary>Option 53.</summary>
    public DhcpMessageType MessageType { get; init; }
    /// <summary>Option 50.</summary>
    public Ipv4Address? RequestedAddress { get; init; }
    /// <summary>Option 54.</summary>
    public Ipv4Address? ServerIdentifier { get; init; }
    /// <summary>Option 51, in seconds.</summary>
    public uint? LeaseSeconds { get; init; }
    /// <summary>Option 58 (T1), in seconds.</summary>
    public uint? RenewalSeconds { get; init; }
    /// <summary>Option 59 (T2), in seconds.</summary>
    public uint? RebindingSeconds { get; init; }
    /// <summary>Option 1.</summary>
    public Ipv4Address? SubnetMask { get; init; }
    /// <summary>Option 3, first router.</summary>
    public Ipv4Address? Router { get; init; }
    /// <summary>Option 6.</summary>
    public IReadOnlyList<Ipv4Address> DnsServers { get; init; } = [];
    /// <summary>Option 12.</summary>
    public string? HostName { get; init; }
    /// <summary>Option 55: options the client asks for.</summary>
    public byte[]? ParameterRequestList { get; init; }

    private const uint MagicCookie = 0x63825363;

    /// <summary>Parses a message from a UDP payload; false (with the reason) on anything malformed.</summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out DhcpMessage message, out DropReason reason)
    {
        message = null!;
        if (data.Length < FixedLength)
        {
            reason = DropReason.Truncated;
            return false;
        }
        if (data[0] is not (1 or 2) || data[1] != 1 || data[2] != MacAddress.Length
            || BinaryPrimitives.ReadUInt32BigEndian(data[236..]) != MagicCookie)
        {
            reason = DropReason.Malformed;
            return false;
        }
        var m = new DhcpMessage
        {
            Op = data[0],
            TransactionId = BinaryPrimitives.ReadUInt32BigEndian(data[4..]),
            Seconds = BinaryPrimitives.ReadUInt16BigEndian(data[8..]),
            Broadcast = (data[10] & 0x80) != 0,
            ClientAddress = Ipv4Address.Read(data[12..]),
            YourAddress = Ipv4Address.Read(data[16..]),
            NextServer = Ipv4Address.Read(data[20..]),
            RelayAgent = Ipv4Address.Read(data[24..]),
            ClientHardware = MacAddress.Read(data[28..]),
        };
        var options = data[FixedLength..];
        var dns = new List<Ipv4Address>();
        bool ended = false;
        while (!options.IsEmpty)
        {
            byte code = options[0];
            if (code == 0)
            {
                options = options[1..];
                continue;
            }
            if (code == 255)
            {
                ended = true;
                break;
            }
            if (options.Length < 2 || options.Length < 2 + options[1])
            {
                reason = DropReason.Truncated;
                return false;
            }
            var value = options.Slice(2, options[1]);
            options = options[(2 + options[1])..];
            switch (code)
            {
                case 53 when value.Length == 1: m = m with { MessageType = (DhcpMessageType)value[0] }; break;
                case 50 when value.Length == 4: m = m with { RequestedAddress = Ipv4Address.Read(value) }; break;
                case 54 when value.Length == 4: m = m with { ServerIdentifier = Ipv4Address.Read(value) }; break;
                case 51 when value.Length == 4: m = m with { LeaseSeconds = BinaryPrimitives.ReadUInt32BigEndian(value) }; break;
                case 58 when value.Length == 4: m = m with { RenewalSeconds = BinaryPrimitives.ReadUInt32BigEndian(value) }; break;
                case 59 when value.Length == 4: m = m with { RebindingSeconds = BinaryPrimitives.ReadUInt32BigEndian(value) }; break;
                case 1 when value.Length == 4: m = m with { SubnetMask = Ipv4Address.Read(value) }; break;
                case 3 when value.Length >= 4 && value.Length % 4 == 0: m = m with { Router = Ipv4Address.Read(value) }; break;
                case 6 when value.Length >= 4 && value.Length % 4 == 0:
                    for (int i = 0; i < value.Length; i += 4)
                        dns.Add(Ipv4Address.Read(value[i..]));
                    break;
                case 12 when value.Length > 0: m = m with { HostName = Encoding.ASCII.GetString(value) }; break;
                case 55: m = m with { ParameterRequestList = value.ToArray() }; break;
                default:
                    break; // RFC 2131 §3: options a client does not understand are ignored.
            }
        }
        if (!ended || m.MessageType is < DhcpMessageType.Discover or > DhcpMessageType.Release)
        {
            reason = DropReason.Malformed;
            return false;
        }
        message = m with { DnsServers = dns };
        reason = DropReason.None;
        return true;
    }

    /// <summary>Bytes <see cref="Emit"/> writes.</summary>
    public int BufferLength =>
        FixedLength + 3
        + (RequestedAddress.HasValue ? 6 : 0) + (ServerIdentifier.HasValue ? 6 : 0)
        + (LeaseSeconds.HasValue ? 6 : 0) + (RenewalSeconds.HasValue ? 6 : 0) + (RebindingSeconds.HasValue ? 6 : 0)
        + (SubnetMask.HasValue ? 6 : 0) + (Router.HasValue ? 6 : 0)
        + (DnsServers.Count > 0 ? 2 + 4 * DnsServers.Count : 0)
        + (HostName is { Length: > 0 } h ? 2 + Math.Min(h.Length, 255) : 0)
        + (ParameterRequestList is { Length: > 0 } p ? 2 + Math.Min(p.Length, 255) : 0)
        + 1;

    /// <summary>Writes the message into the first <see cref="BufferLength"/> bytes of <paramref name="data"/>.</summary>
    public void Emit(Span<byte> data)
    {
        data[..FixedLength].Clear();
        data[0] = Op;
        data[1] = 1;
        data[2] = MacAddress.Length;
        BinaryPrimitives.WriteUInt32BigEndian(data[4..], TransactionId);
        BinaryPrimitives.WriteUInt16BigEndian(data[8..], Seconds);
        data[10] = Broadcast ? (byte)0x80 : (byte)0;
        ClientAddress.Write(data[12..]);
        YourAddress.Write(data[16..]);
        NextServer.Write(data[20..]);
        RelayAgent.Write(data[24..]);
        ClientHardware.Write(data[28..]);
        BinaryPrimitives.WriteUInt32BigEndian(data[236..], MagicCookie);
        int at = FixedLength;
        data[at++] = 53;
        data[at++] = 1;
        data[at++] = (byte)MessageType;
        at = Address(data, at, 50, RequestedAddress);
        at = Address(data, at, 54, ServerIdentifier);
        at = Seconds32(data, at, 51, LeaseSeconds);
        at = Seconds32(data, at, 58, RenewalSeconds);
        at = Seconds32(data, at, 59, RebindingSeconds);
        at = Address(data, at, 1, SubnetMask);
        at = Address(data, at, 3, Router);
        if (DnsServers.Count > 0)
        {
            data[at++] = 6;
            data[at++] = (byte)(4 * DnsServers.Count);
            foreach (var server in DnsServers)
            {
                server.Write(data[at..]);
                at += 4;
            }
        }
        if (HostName is { Length: > 0 } name)
        {
            int n = Math.Min(name.Length, 255);
            data[at++] = 12;
            data[at++] = (byte)n;
            at += Encoding.ASCII.GetBytes(name.AsSpan(0, n), data[at..]);
        }
        if (ParameterRequestList is { Length: > 0 } list)
        {
            int n = Math.Min(list.Length, 255);
            data[at++] = 55;
            data[at++] = (byte)n;
            list.AsSpan(0, n).CopyTo(data[at..]);
            at += n;
        }
        data[at] = 255;
    }

    /// <summary>Encodes to a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[BufferLength];
        Emit(bytes);
        return bytes;
    }

    private static int Address(Span<byte> data, int at, byte code, Ipv4Address? value)
    {
        if (value is not { } v)
            return at;
        data[at] = code;
        data[at + 1] = 4;
        v.Write(data[(at + 2)..]);
        return at + 6;
    }

    private static int Seconds32(Span<byte> data, int at, byte code, uint? value)
    {
        if (value is not { } v)
            return at;
        data[at] = code;
        data[at + 1] = 4;
        BinaryPrimitives.WriteUInt32BigEndian(data[(at + 2)..], v);
        return at + 6;
    }
}
