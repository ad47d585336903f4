using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Apps.Conduit.Dns;
using Apps.Conduit.Endpoints;

namespace Apps.Conduit.Tests;

/// <summary>SRV lookup for xmpp:// endpoints: the wire format on crafted bytes, and dnsmasq as a real DNS server.</summary>
public sealed class SrvTests(EntropyFixture entropy) : IClassFixture<EntropyFixture>
{
    // A response to id 0x1234 for _xmpp-client._tcp.example.test with two SRV answers; the owner names
    // point back at the question (offset 12) and the second target is compressed onto the first's suffix.
    private static byte[] Response()
    {
        var question = SrvMessage.BuildQuery(0x1234, "_xmpp-client._tcp.example.test");
        var message = new List<byte>(question);
        message[2] = 0x81;
        message[3] = 0x80;
        message[7] = 2; // ANCOUNT
        void Answer(ushort priority, ushort weight, ushort port, byte[] target)
        {
            message.AddRange([0xC0, 0x0C, 0, 33, 0, 1, 0, 0, 0x0E, 0x10]);
            var rdLength = 6 + target.Length;
            message.AddRange([(byte)(rdLength >> 8), (byte)rdLength, (byte)(priority >> 8), (byte)priority, (byte)(weight >> 8), (byte)weight, (byte)(port >> 8), (byte)port]);
            message.AddRange(target);
        }

        var firstTargetAt = message.Count + 10 + 2 + 6;
        Answer(10, 0, 5223, [4, (byte)'x', (byte)'m', (byte)'p', (byte)'p', 7, .. "example"u8.ToArray(), 4, .. "test"u8.ToArray(), 0]);
        Answer(5, 1, 5222, [2, (byte)'a', (byte)'b', 0xC0, (byte)(firstTargetAt + 5)]);
        return [.. message];
    }

    [Fact]
    public void Parses_srv_answers_with_compressed_names()
    {
        var records = SrvMessage.ParseResponse(Response(), 0x1234);

        Assert.Equal([new SrvRecord(10, 0, 5223, "xmpp.example.test"), new SrvRecord(5, 1, 5222, "ab.example.test")], records);
    }

    [Fact]
    public void Every_truncation_of_a_response_is_refused_as_malformed()
    {
        var response = Response();
        for (var length = 0; length < response.Length; length++)
        {
            Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(response.AsSpan(0, length), 0x1234));
        }
    }

    [Fact]
    public void Response_to_another_query_is_refused()
    {
        Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(Response(), 0x4321));
    }

    [Fact]
    public void Compression_pointer_loop_is_refused()
    {
        var response = Response();
        var looped = response.ToArray();
        // Point the first answer's owner name at itself.
        var ownerAt = SrvMessage.BuildQuery(0x1234, "_xmpp-client._tcp.example.test").Length;
        looped[ownerAt] = 0xC0;
        looped[ownerAt + 1] = (byte)ownerAt;

        Assert.Throws<DnsFormatException>(() => SrvMessage.ParseResponse(looped, 0x1234));
    }

    [Fact]
    public void Nxdomain_means_no_records()
    {
        var response = SrvMessage.BuildQuery(7, "_xmpp-client._tcp.nowhere.test");
        response[2] = 0x81;
        response[3] = 0x83;

        Assert.Empty(SrvMessage.ParseResponse(response, 7));
    }

    [Fact]
    public async Task Xmpp_endpoint_follows_srv_records_from_dnsmasq_to_the_listed_port()
    {
        int dnsPort;
        using (var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            dnsPort = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
        }

        await using var network = new ConduitNetwork(new ConduitOptions
        {
            Random = entropy.Runtime.CreateSecureRandom(),
            Resolver = new SrvResolver(entropy.Runtime.CreateSecureRandom(), new IPEndPoint(IPAddress.Loopback, dnsPort)),
        });
        await using var listener = await network.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var start = new ProcessStartInfo("dnsmasq") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
                 {
                     "--no-daemon", "--conf-file=/dev/null", "--user=root", "--pid-file=", $"--port={dnsPort}", "--listen-address=127.0.0.1",
                     "--bind-interfaces", "--no-resolv", "--no-hosts",
                     $"--srv-host=_xmpp-client._tcp.example.test,localhost,{listener.LocalEndPoint.Port},0,5",
                     "--srv-host=_xmpp-client._tcp.example.test,unused.example.test,1,10,5",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        using var dnsmasq = Process.Start(start)!;
        dnsmasq.BeginOutputReadLine();
        dnsmasq.BeginErrorReadLine();
        try
        {
            var resolver = new SrvResolver(entropy.Runtime.CreateSecureRandom(), new IPEndPoint(IPAddress.Loopback, dnsPort), TimeSpan.FromSeconds(1));
            IReadOnlyList<SrvRecord>? records = null;
            for (var attempt = 0; records is null; attempt++)
            {
                try
                {
                    records = await resolver.QueryAsync("_xmpp-client._tcp.example.test");
                }
                catch (Exception e) when (attempt < 30 && e is TimeoutException or SocketException)
                {
                    await Task.Delay(100); // dnsmasq still starting
                }
            }

            var endpoint = ConduitEndpoint.Parse("xmpp://example.test");
            var accepting = listener.AcceptAsync().AsTask();
            await using var client = await network.ConnectAsync(endpoint);
            await using var accepted = await accepting;

            Assert.Equal([new SrvRecord(0, 5, (ushort)listener.LocalEndPoint.Port, "localhost"), new SrvRecord(10, 5, 1, "unused.example.test")], records);
            Assert.True(endpoint.UseSrv);
            Assert.Equal(listener.LocalEndPoint.Port, ((IPEndPoint)client.RemoteEndPoint!).Port);
            Assert.NotNull(accepted);
        }
        finally
        {
            dnsmasq.Kill();
            await dnsmasq.WaitForExitAsync();
        }
    }
}
