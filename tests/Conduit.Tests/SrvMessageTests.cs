using Apps.Conduit.Dns;

namespace Apps.Conduit.Tests;

/// <summary>The SRV wire format on crafted bytes: well-formed answers, and every hostile shape the parser must refuse.</summary>
public sealed class SrvMessageTests
{
    private const string Name = "_xmpp-client._tcp.example.test";
    private const ushort Id = 0x1234;

    // Two answers: the owner names point back at the question; the second target is compressed onto the first's suffix.
    private static byte[] Response()
    {
        var response = DnsBytes.ResponseTo(Id, Name, 2);
        var firstTargetAt = response.Length + 2 + 10 + 6;
        response.Srv(10, 0, 5223, "xmpp.example.test");
        response.Srv(DnsBytes.Pointer(DnsBytes.QuestionName), 5, 1, 5222, [2, (byte)'a', (byte)'b', .. DnsBytes.Pointer(firstTargetAt + 5)]);
        return response.ToArray();
    }

    [Fact]
    public void Parses_srv_answers_with_compressed_names()
    {
        var records = SrvMessage.ParseResponse(Response(), Id, Name);

        Assert.Equal([new SrvRecord(10, 0, 5223, "xmpp.example.test"), new SrvRecord(5, 1, 5222, "ab.example.test")], records);
    }

    [Fact]
    public void Parses_a_response_fed_with_trailing_data()
    {
        byte[] response = [.. Response(), 0xDE, 0xAD];

        Assert.Equal(2, SrvMessage.ParseResponse(response, Id, Name).Count);
    }

    [Fact]
    public void Keeps_a_dot_target_which_means_service_not_offered()
    {
        var response = DnsBytes.ResponseTo(Id, Name, 1).Srv(0, 0, 0, ".").ToArray();

        Assert.Equal([new SrvRecord(0, 0, 0, ".")], SrvMessage.ParseResponse(response, Id, Name));
    }

    [Fact]
    public void Every_truncation_of_a_response_is_refused_as_malformed()
    {
        var response = Response();
        for (var length = 0; length < response.Length; length++)
        {
            Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(response.AsSpan(0, length), Id, Name));
        }
    }

    [Fact]
    public void Response_to_another_query_id_is_refused()
    {
        Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(Response(), 0x4321, Name));
    }

    [Fact]
    public void Response_about_another_name_is_refused()
    {
        var failure = Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(Response(), Id, "_xmpp-client._tcp.other.test"));

        Assert.Contains("not the SRV records of '_xmpp-client._tcp.other.test'", failure.Message);
    }

    [Fact]
    public void Answers_owned_by_another_name_are_ignored()
    {
        var response = DnsBytes.ResponseTo(Id, Name, 2)
            .Srv(DnsBytes.Name("_xmpp-client._tcp.evil.test"), 0, 0, 5222, DnsBytes.Name("evil.test"))
            .Srv(1, 0, 5222, "good.example.test")
            .ToArray();

        Assert.Equal([new SrvRecord(1, 0, 5222, "good.example.test")], SrvMessage.ParseResponse(response, Id, Name));
    }

    [Fact]
    public void Nxdomain_means_no_records()
    {
        var response = DnsBytes.ResponseTo(7, Name, 0, flags2: 0x83).ToArray();

        Assert.Empty(SrvMessage.ParseResponse(response, 7, Name));
    }

    [Theory]
    [InlineData(0x82, "error code 2")] // SERVFAIL
    [InlineData(0x85, "error code 5")] // REFUSED
    public void Server_errors_are_refused_with_their_code(byte flags2, string reason)
    {
        var response = DnsBytes.ResponseTo(Id, Name, 0, flags2).ToArray();

        Assert.Contains(reason, Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(response, Id, Name)).Message);
    }

    [Fact]
    public void Truncated_flag_is_refused()
    {
        var response = Response();
        response[2] |= 0x02;

        Assert.Contains("truncated", Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(response, Id, Name)).Message);
        Assert.True(SrvMessage.IsTruncatedAnswer(response, Id));
        Assert.False(SrvMessage.IsTruncatedAnswer(response, 0x4321));
        Assert.False(SrvMessage.IsTruncatedAnswer(Response(), Id));
    }

    [Fact]
    public void Compression_pointer_loop_is_refused()
    {
        var response = DnsBytes.ResponseTo(Id, Name, 1).ToArray();
        var ownerAt = response.Length;
        var looped = DnsBytes.ResponseTo(Id, Name, 1).Srv(DnsBytes.Pointer(ownerAt), 0, 0, 1, DnsBytes.Name("x")).ToArray();

        Assert.Contains("loops or points forward", Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(looped, Id, Name)).Message);
    }

    [Fact]
    public void Forward_compression_pointer_is_refused()
    {
        var response = DnsBytes.ResponseTo(Id, Name, 1);
        var forward = response.Srv(DnsBytes.Pointer(response.Length + 40), 0, 0, 1, DnsBytes.Name("x")).Raw(new byte[64]).ToArray();

        Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(forward, Id, Name));
    }

    [Fact]
    public void Name_longer_than_255_octets_is_refused()
    {
        var longName = string.Join('.', Enumerable.Repeat(new string('a', 63), 5));
        var response = DnsBytes.ResponseTo(Id, Name, 1).Srv(0, 0, 1, longName).ToArray();

        Assert.Contains("too long", Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(response, Id, Name)).Message);
    }

    [Theory]
    [InlineData((byte)'.')]
    [InlineData((byte)0)]
    [InlineData((byte)' ')]
    [InlineData((byte)0xC3)]
    public void Target_with_a_character_no_host_name_has_is_refused(byte octet)
    {
        var response = DnsBytes.ResponseTo(Id, Name, 1).Srv(DnsBytes.Pointer(DnsBytes.QuestionName), 0, 0, 1, [3, (byte)'a', octet, (byte)'b', 0]).ToArray();

        Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(response, Id, Name));
    }

    [Fact]
    public void Reserved_label_type_is_refused()
    {
        var response = DnsBytes.ResponseTo(Id, Name, 1).Srv(DnsBytes.Pointer(DnsBytes.QuestionName), 0, 0, 1, [0x41, 0]).ToArray();

        Assert.Contains("reserved", Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(response, Id, Name)).Message);
    }

    [Theory]
    [InlineData(5)] // shorter than priority, weight, port and a one-byte name
    [InlineData(9)] // the target runs past its RDATA
    [InlineData(30)] // RDATA claims more than the target holds (and past the end)
    public void Srv_rdata_length_that_disagrees_with_its_content_is_refused(int rdLength)
    {
        var response = DnsBytes.ResponseTo(Id, Name, 1).Srv(DnsBytes.Pointer(DnsBytes.QuestionName), 0, 0, 1, DnsBytes.Name("host.test"), rdLength).ToArray();

        Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(response, Id, Name));
    }

    [Fact]
    public void More_than_the_answer_limit_reads_only_the_limit()
    {
        var response = DnsBytes.ResponseTo(Id, Name, 200);
        for (var i = 0; i < 200; i++)
        {
            response.Srv(DnsBytes.Pointer(DnsBytes.QuestionName), 0, 0, (ushort)i, DnsBytes.Pointer(DnsBytes.QuestionName));
        }

        Assert.Equal(SrvMessage.MaxAnswers, SrvMessage.ParseResponse(response.ToArray(), Id, Name).Count);
    }

    [Fact]
    public void Huge_answer_count_with_few_answers_is_refused_as_truncated()
    {
        var response = Response();
        response[6] = 0xFF;
        response[7] = 0xFF;

        Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(response, Id, Name));
    }

    [Fact]
    public void Several_questions_are_refused()
    {
        var response = Response();
        response[5] = 2;

        Assert.Contains("questions", Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(response, Id, Name)).Message);
    }

    [Fact]
    public void Records_of_other_types_are_skipped()
    {
        var response = DnsBytes.ResponseTo(Id, Name, 2)
            .Srv(DnsBytes.Pointer(DnsBytes.QuestionName), 0, 0, 1, DnsBytes.Name("cname.test"), type: 5)
            .Srv(0, 0, 5222, "real.test")
            .ToArray();

        Assert.Equal([new SrvRecord(0, 0, 5222, "real.test")], SrvMessage.ParseResponse(response, Id, Name));
    }

    [Fact]
    public void Random_garbage_only_ever_raises_the_format_exception()
    {
        var random = new Random(6);
        var valid = Response();
        var parsed = 0;
        var refused = 0;
        for (var i = 0; i < 5000; i++)
        {
            var mutated = valid.ToArray();
            for (var flips = random.Next(1, 6); flips > 0; flips--)
            {
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            }

            try
            {
                SrvMessage.ParseResponse(mutated, Id, Name);
                parsed++;
            }
            catch (DnsFormatException)
            {
                refused++;
            }
        }

        Assert.Equal(5000, parsed + refused);
        Assert.True(parsed > 0 && refused > 0, $"{parsed} parsed, {refused} refused");
    }
}
