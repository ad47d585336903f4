using System.Net;
using Apps.Conduit.Dns;

namespace Apps.Conduit.Tests;

/// <summary>The A-record wire format on crafted bytes: addresses, CNAME chains, and the hostile shapes the parser refuses.</summary>
public sealed class AddressMessageTests
{
    private const string Name = "www.example.test";
    private const ushort Id = 0x2468;

    private static DnsBytes ResponseTo(int answers) => DnsBytes.ResponseTo(Id, Name, answers, type: DnsMessage.TypeA);

    private static byte[] Question => DnsBytes.Pointer(DnsBytes.QuestionName);

    [Fact]
    public void Parses_a_records_in_the_order_sent()
    {
        var response = ResponseTo(2)
            .Record(Question, DnsMessage.TypeA, [10, 0, 0, 7])
            .Record(Question, DnsMessage.TypeA, [10, 0, 0, 3]);

        var addresses = AddressMessage.ParseResponse(response.ToArray(), Id, Name);

        Assert.Equal([IPAddress.Parse("10.0.0.7"), IPAddress.Parse("10.0.0.3")], addresses);
    }

    [Fact]
    public void Follows_a_cname_chain_to_the_addresses_of_its_end()
    {
        var response = ResponseTo(4);
        response.Record(Question, DnsMessage.TypeCname, DnsBytes.Name("edge.example.test"));
        var edgeAt = response.Length - DnsBytes.Name("edge.example.test").Length;
        response.Record(DnsBytes.Pointer(edgeAt), DnsMessage.TypeCname, DnsBytes.Name("host.cdn.test"))
            .Record(DnsBytes.Name("host.cdn.test"), DnsMessage.TypeA, [192, 0, 2, 9])
            .Record(DnsBytes.Name("decoy.test"), DnsMessage.TypeA, [192, 0, 2, 66]);

        var addresses = AddressMessage.ParseResponse(response.ToArray(), Id, Name);

        Assert.Equal([IPAddress.Parse("192.0.2.9")], addresses);
    }

    [Fact]
    public void Ignores_addresses_of_names_off_the_chain()
    {
        var response = ResponseTo(2)
            .Record(DnsBytes.Name("elsewhere.test"), DnsMessage.TypeA, [192, 0, 2, 66])
            .Record(Question, DnsMessage.TypeA, [192, 0, 2, 1]);

        Assert.Equal([IPAddress.Parse("192.0.2.1")], AddressMessage.ParseResponse(response.ToArray(), Id, Name));
    }

    [Fact]
    public void Nxdomain_and_an_empty_answer_give_no_addresses()
    {
        Assert.Empty(AddressMessage.ParseResponse(DnsBytes.ResponseTo(Id, Name, 0, flags2: 0x83, type: DnsMessage.TypeA).ToArray(), Id, Name));
        Assert.Empty(AddressMessage.ParseResponse(ResponseTo(0).ToArray(), Id, Name));
    }

    [Fact]
    public void A_cname_loop_is_refused_after_the_chain_limit()
    {
        var response = ResponseTo(2);
        response.Record(Question, DnsMessage.TypeCname, DnsBytes.Name("loop.test"));
        var loopAt = response.Length - DnsBytes.Name("loop.test").Length;
        response.Record(DnsBytes.Pointer(loopAt), DnsMessage.TypeCname, Question);

        var failure = Assert.Throws<DnsFormatException>(() => AddressMessage.ParseResponse(response.ToArray(), Id, Name));

        Assert.Contains($"more than {AddressMessage.MaxCnameChain} CNAMEs", failure.Message);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(16)]
    public void An_a_record_that_is_not_four_octets_is_refused(int length)
    {
        var response = ResponseTo(1).Record(Question, DnsMessage.TypeA, new byte[length]);

        var failure = Assert.Throws<DnsFormatException>(() => AddressMessage.ParseResponse(response.ToArray(), Id, Name));

        Assert.Contains($"holds {length} octets instead of 4", failure.Message);
    }

    [Fact]
    public void A_cname_whose_target_overruns_its_data_is_refused()
    {
        var response = ResponseTo(1).Record(Question, DnsMessage.TypeCname, DnsBytes.Name("x.test"), rdLength: 3);

        Assert.Throws<DnsFormatException>(() => AddressMessage.ParseResponse(response.ToArray(), Id, Name));
    }

    [Fact]
    public void An_answer_to_another_question_type_is_refused()
    {
        var srvAnswer = DnsBytes.ResponseTo(Id, Name, 0).ToArray();

        var failure = Assert.Throws<DnsFormatException>(() => AddressMessage.ParseResponse(srvAnswer, Id, Name));

        Assert.Contains("not the A records of 'www.example.test'", failure.Message);
    }

    [Fact]
    public void Every_truncation_of_an_answer_is_refused_without_a_crash()
    {
        var response = ResponseTo(2)
            .Record(Question, DnsMessage.TypeCname, DnsBytes.Name("a.test"))
            .Record(DnsBytes.Name("a.test"), DnsMessage.TypeA, [10, 1, 2, 3])
            .ToArray();

        for (var length = 0; length < response.Length; length++)
        {
            Assert.Throws<DnsFormatException>(() => AddressMessage.ParseResponse(response.AsSpan(0, length), Id, Name));
        }

        Assert.Equal([IPAddress.Parse("10.1.2.3")], AddressMessage.ParseResponse(response, Id, Name));
    }

    [Fact]
    public void Random_bytes_after_a_valid_header_never_crash_the_parser()
    {
        var random = new Random(5);
        var header = ResponseTo(3).ToArray();
        for (var i = 0; i < 5000; i++)
        {
            var message = new byte[header.Length + random.Next(0, 80)];
            header.CopyTo(message, 0);
            random.NextBytes(message.AsSpan(header.Length));
            try
            {
                foreach (var address in AddressMessage.ParseResponse(message, Id, Name))
                {
                    Assert.Equal(4, address.GetAddressBytes().Length);
                }
            }
            catch (DnsFormatException)
            {
                // refused with a reason: the outcome hostile bytes should have
            }
        }
    }
}
