// Read this first: RFC 1035 §4 (message format, §4.1.4 name compression) and RFC 1034 §3.6.2 (CNAME).
// Sans-IO: builds query bytes and walks response bytes; DnsResolver does the exchange over some transport.
// Hostile input: every length is checked, compression pointers may only point backwards and at most
// MaxPointerJumps times, names are at most 255 octets, at most MaxAnswers records are read, the question must
// echo ours (RFC 5452 §9.1), and each record's data must lie inside the message.
using System.Buffers.Binary;
using System.Text;

namespace Apps.Conduit.Dns;

/// <summary>The DNS response could not be used; says whose fault it is (the server's).</summary>
public sealed class DnsFormatException(string message) : Exception(message);

/// <summary>One answer record as it lies in the message: its owner name, type, and where its data is.</summary>
internal readonly record struct DnsRecord(string Owner, ushort Type, int DataOffset, int DataLength);

/// <summary>DNS queries and the answer section of responses, as bytes (RFC 1035 §4.1).</summary>
public static class DnsMessage
{
    public const ushort TypeA = 1;
    public const ushort TypeCname = 5;
    public const ushort TypeSrv = 33;
    public const ushort ClassIn = 1;
    public const int MaxAnswers = 64;
    public const int MaxPointerJumps = 16;
    public const int MaxNameLength = 255;

    /// <summary>RFC 1035 §4.1.1/§4.1.2: a recursive query (RD) for the records of <paramref name="type"/> at <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a DNS name.</exception>
    public static byte[] BuildQuery(ushort id, string name, ushort type)
    {
        var labels = name.TrimEnd('.').Split('.');
        var length = 12 + 1 + 4;
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63 || !Ascii.IsValid(label))
            {
                throw new ArgumentException($"'{name}' is not a DNS name", nameof(name));
            }

            length += 1 + label.Length;
        }

        if (length - 16 > MaxNameLength)
        {
            throw new ArgumentException($"'{name}' is longer than 255 octets", nameof(name));
        }

        var query = new byte[length];
        BinaryPrimitives.WriteUInt16BigEndian(query, id);
        query[2] = 0x01; // RD
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(4), 1); // QDCOUNT
        var at = 12;
        foreach (var label in labels)
        {
            query[at++] = (byte)label.Length;
            at += Encoding.ASCII.GetBytes(label, query.AsSpan(at));
        }

        query[at++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(at), type);
        BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(at + 2), ClassIn);
        return query;
    }

    /// <summary>True when <paramref name="message"/> is a response to query <paramref name="id"/> with TC set (RFC 1035
    /// §4.1.1): the answer did not fit in UDP and must be asked again over TCP (RFC 7766 §5).</summary>
    public static bool IsTruncatedAnswer(ReadOnlySpan<byte> message, ushort id) =>
        message.Length >= 12 && BinaryPrimitives.ReadUInt16BigEndian(message) == id && (message[2] & 0x80) != 0 && (message[2] & 0x02) != 0;

    /// <summary>
    /// Checks that <paramref name="message"/> answers our query <paramref name="id"/> for (<paramref name="name"/>,
    /// <paramref name="type"/>, IN) and returns its answer records of class IN (at most <see cref="MaxAnswers"/>);
    /// NXDOMAIN gives none.
    /// </summary>
    /// <exception cref="DnsFormatException">The response is malformed, truncated, an error, or answers another query.</exception>
    internal static List<DnsRecord> ReadAnswers(ReadOnlySpan<byte> message, ushort id, string name, ushort type)
    {
        if (message.Length < 12)
        {
            throw new DnsFormatException("the DNS response is shorter than its 12-byte header");
        }

        // RFC 1035 §4.1.1: QR set, OPCODE 0 (a standard query).
        if (BinaryPrimitives.ReadUInt16BigEndian(message) != id || (message[2] & 0x80) == 0 || (message[2] & 0x78) != 0)
        {
            throw new DnsFormatException("the DNS response does not answer our query");
        }

        if ((message[2] & 0x02) != 0)
        {
            throw new DnsFormatException("the DNS response was truncated (TC); the resolver needs TCP for this name");
        }

        var rcode = message[3] & 0x0F;
        if (rcode != 0 && rcode != 3)
        {
            throw new DnsFormatException($"the DNS server answered with error code {rcode}");
        }

        // RFC 5452 §9.1: the answer must echo our one question, or it answers something else.
        var expected = Normalize(name);
        int questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        int answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var at = 12;
        if (questions != 1)
        {
            throw new DnsFormatException($"the DNS response carries {questions} questions instead of our one");
        }

        var asked = ReadName(message, ref at);
        if (at + 4 > message.Length)
        {
            throw new DnsFormatException("the DNS response's question is truncated");
        }

        if (asked != expected || BinaryPrimitives.ReadUInt16BigEndian(message[at..]) != type || BinaryPrimitives.ReadUInt16BigEndian(message[(at + 2)..]) != ClassIn)
        {
            throw new DnsFormatException($"the DNS response answers a question about '{asked}', not the {TypeName(type)} records of '{expected}'");
        }

        at += 4;
        var records = new List<DnsRecord>();
        if (rcode == 3)
        {
            return records; // NXDOMAIN: the name does not exist
        }

        for (var i = 0; i < Math.Min(answers, MaxAnswers); i++)
        {
            var owner = ReadName(message, ref at);
            if (at + 10 > message.Length)
            {
                throw new DnsFormatException("a DNS answer record is truncated");
            }

            var recordType = BinaryPrimitives.ReadUInt16BigEndian(message[at..]);
            var @class = BinaryPrimitives.ReadUInt16BigEndian(message[(at + 2)..]);
            var dataLength = BinaryPrimitives.ReadUInt16BigEndian(message[(at + 8)..]);
            var data = at + 10;
            if (data + dataLength > message.Length)
            {
                throw new DnsFormatException("a DNS answer's data runs past the end of the message");
            }

            if (@class == ClassIn)
            {
                records.Add(new DnsRecord(owner, recordType, data, dataLength));
            }

            at = data + dataLength;
        }

        return records;
    }

    /// <summary>A name as <see cref="ReadName"/> writes it: lower case, no trailing dot.</summary>
    internal static string Normalize(string name) => name.TrimEnd('.').ToLowerInvariant();

    private static string TypeName(ushort type) => type switch { TypeA => "A", TypeSrv => "SRV", _ => $"type {type}" };

    /// <summary>RFC 1035 §4.1.4: labels, possibly ending in a pointer to an earlier name.</summary>
    internal static string ReadName(ReadOnlySpan<byte> message, ref int at)
    {
        var name = new StringBuilder();
        var position = at;
        var jumps = 0;
        var end = -1;
        while (true)
        {
            if (position >= message.Length)
            {
                throw new DnsFormatException("a DNS name runs past the end of the message");
            }

            var length = message[position];
            if ((length & 0xC0) == 0xC0)
            {
                if (position + 1 >= message.Length)
                {
                    throw new DnsFormatException("a DNS compression pointer is truncated");
                }

                var target = ((length & 0x3F) << 8) | message[position + 1];
                if (target >= position || ++jumps > MaxPointerJumps)
                {
                    throw new DnsFormatException("a DNS compression pointer loops or points forward");
                }

                if (end < 0)
                {
                    end = position + 2;
                }

                position = target;
                continue;
            }

            if ((length & 0xC0) != 0)
            {
                throw new DnsFormatException("a DNS label uses a reserved length form");
            }

            if (length == 0)
            {
                at = end < 0 ? position + 1 : end;
                return name.Length == 0 ? "." : name.ToString();
            }

            if (position + 1 + length > message.Length || name.Length + length + 1 > MaxNameLength)
            {
                throw new DnsFormatException("a DNS label is truncated or the name is too long");
            }

            var label = message.Slice(position + 1, length);
            foreach (var octet in label)
            {
                // Host names are letters, digits and hyphens (RFC 1123 §2.1; '_' for service labels); anything
                // else (a '.', a NUL, a space) would change the name's meaning once written as text.
                if (!char.IsAsciiLetterOrDigit((char)octet) && octet is not (byte)'-' and not (byte)'_')
                {
                    throw new DnsFormatException("a DNS name holds a character that no host name has");
                }
            }

            if (name.Length > 0)
            {
                name.Append('.');
            }

            name.Append(Encoding.ASCII.GetString(label).ToLowerInvariant());
            position += 1 + length;
        }
    }
}
