// Read this first: RFC 1035 §3.4.1 (A RDATA) and RFC 1034 §3.6.2 / §4.3.2 (a CNAME in the answer section
// renames the question: the address records then belong to the CNAME's target, possibly through a chain).
// Hostile input: A data must be exactly four octets; a CNAME chain is followed only forward from the
// question, at most MaxCnameChain links, so a loop ends; records owned by names off the chain are ignored.
using System.Net;

namespace Apps.Conduit.Dns;

/// <summary>DNS A query and response (IPv4 addresses of a host name), as bytes.</summary>
public static class AddressMessage
{
    /// <summary>How many CNAME links are followed before the answer is refused.</summary>
    public const int MaxCnameChain = 8;

    /// <summary>RFC 1035 §4.1: a recursive query for the A records of <paramref name="name"/>.</summary>
    public static byte[] BuildQuery(ushort id, string name) => DnsMessage.BuildQuery(id, name, DnsMessage.TypeA);

    /// <summary>
    /// The IPv4 addresses a response to query <paramref name="id"/> gives <paramref name="name"/>, in the order the
    /// server sent them, following CNAMEs; empty for NXDOMAIN or a name without A records.
    /// </summary>
    /// <exception cref="DnsFormatException">The response is malformed, truncated, or answers another query.</exception>
    public static List<IPAddress> ParseResponse(ReadOnlySpan<byte> message, ushort id, string name)
    {
        var records = DnsMessage.ReadAnswers(message, id, name, DnsMessage.TypeA);
        var owner = DnsMessage.Normalize(name);
        // Follow the chain from the question: each CNAME owned by the current name moves it on.
        for (var links = 0; ; links++)
        {
            string? next = null;
            foreach (var record in records)
            {
                if (record.Type == DnsMessage.TypeCname && record.Owner == owner)
                {
                    var at = record.DataOffset;
                    next = DnsMessage.ReadName(message, ref at);
                    if (at != record.DataOffset + record.DataLength)
                    {
                        throw new DnsFormatException("a CNAME record's target does not end where its data ends");
                    }

                    break;
                }
            }

            if (next is null)
            {
                break;
            }

            if (links == MaxCnameChain)
            {
                throw new DnsFormatException($"the DNS answer for '{DnsMessage.Normalize(name)}' is a chain of more than {MaxCnameChain} CNAMEs");
            }

            owner = next;
        }

        var addresses = new List<IPAddress>();
        foreach (var record in records)
        {
            if (record.Type != DnsMessage.TypeA || record.Owner != owner)
            {
                continue;
            }

            if (record.DataLength != 4)
            {
                throw new DnsFormatException($"an A record holds {record.DataLength} octets instead of 4");
            }

            addresses.Add(new IPAddress(message.Slice(record.DataOffset, 4)));
        }

        return addresses;
    }
}
