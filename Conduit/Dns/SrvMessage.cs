// Read this first: RFC 2782 (SRV RDATA). The message itself is DnsMessage's; this reads SRV answers from it.
// Hostile input: an SRV target must end where its RDATA ends, and only records owned by the queried name are kept.
using System.Buffers.Binary;

namespace Apps.Conduit.Dns;

/// <summary>One SRV record (RFC 2782): where a service runs.</summary>
public sealed record SrvRecord(ushort Priority, ushort Weight, ushort Port, string Target);

/// <summary>DNS SRV query and response, as bytes.</summary>
public static class SrvMessage
{
    public const ushort TypeSrv = DnsMessage.TypeSrv;
    public const ushort ClassIn = DnsMessage.ClassIn;
    public const int MaxAnswers = DnsMessage.MaxAnswers;

    /// <summary>RFC 1035 §4.1.1/§4.1.2: a recursive query for the SRV records of <paramref name="name"/>.</summary>
    public static byte[] BuildQuery(ushort id, string name) => DnsMessage.BuildQuery(id, name, TypeSrv);

    /// <summary>Parses the SRV answers of a response to query <paramref name="id"/> for <paramref name="name"/>;
    /// NXDOMAIN or no answers give an empty list. A target of "." (service not offered, RFC 2782) is kept.</summary>
    /// <exception cref="DnsFormatException">The response is malformed, truncated, or answers another query.</exception>
    public static List<SrvRecord> ParseResponse(ReadOnlySpan<byte> message, ushort id, string name)
    {
        var expected = DnsMessage.Normalize(name);
        var records = new List<SrvRecord>();
        foreach (var record in DnsMessage.ReadAnswers(message, id, name, TypeSrv))
        {
            if (record.Type != TypeSrv)
            {
                continue;
            }

            if (record.DataLength < 7)
            {
                throw new DnsFormatException("an SRV record is shorter than priority, weight, port and target");
            }

            var data = message.Slice(record.DataOffset, record.DataLength);
            var targetAt = record.DataOffset + 6;
            var target = DnsMessage.ReadName(message, ref targetAt);
            if (targetAt != record.DataOffset + record.DataLength)
            {
                throw new DnsFormatException("an SRV record's target does not end where its data ends");
            }

            if (record.Owner != expected)
            {
                continue; // not about the name we asked for; never trusted
            }

            records.Add(new SrvRecord(
                BinaryPrimitives.ReadUInt16BigEndian(data),
                BinaryPrimitives.ReadUInt16BigEndian(data[2..]),
                BinaryPrimitives.ReadUInt16BigEndian(data[4..]),
                target));
        }

        return records;
    }

    /// <summary>True when <paramref name="message"/> is a truncated response to query <paramref name="id"/>; see
    /// <see cref="DnsMessage.IsTruncatedAnswer"/>.</summary>
    public static bool IsTruncatedAnswer(ReadOnlySpan<byte> message, ushort id) => DnsMessage.IsTruncatedAnswer(message, id);
}
