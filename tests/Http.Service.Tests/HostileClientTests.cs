using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Apps.Http.Service.Tests;

/// <summary>Clients that misbehave must not stop others from being served.</summary>
public sealed class HostileClientTests(StaticSiteFixture site) : IClassFixture<StaticSiteFixture>
{
    private ServiceProcess Service => site.Service;

    private async Task AssertStillServesAsync()
    {
        var result = await ExternalTool.CurlAsync(Service, "--http2", Service.BaseUrl + "/healthz");
        Assert.Equal("ok\n", result.Output);
    }

    private async Task<TcpClient> ConnectAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Service.Port);
        return client;
    }

    /// <summary>Reads until the server closes; returns what it sent.</summary>
    private static async Task<byte[]> ReadToCloseAsync(NetworkStream stream, TimeSpan limit)
    {
        using var deadline = new CancellationTokenSource(limit);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, deadline.Token)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        }
        catch (IOException)
        {
            // a reset also ends the connection
        }

        return received.ToArray();
    }

    [Fact]
    public async Task Plain_http_instead_of_tls_gets_an_alert_and_the_connection_closes()
    {
        using var client = await ConnectAsync();
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));

        var reply = await ReadToCloseAsync(stream, TimeSpan.FromSeconds(30));

        Assert.True(reply.Length == 0 || reply[0] == 0x15, $"expected nothing or a TLS alert record, got {Convert.ToHexString(reply)}");
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Random_garbage_instead_of_tls_is_dropped()
    {
        using var client = await ConnectAsync();
        var stream = client.GetStream();
        var garbage = new byte[64 * 1024];
        new Random(3).NextBytes(garbage);
        garbage[0] = 0x16; // looks like a handshake record at first
        try
        {
            await stream.WriteAsync(garbage);
        }
        catch (IOException)
        {
            // the server may reset before it has read everything
        }

        await ReadToCloseAsync(stream, TimeSpan.FromSeconds(30));
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Oversized_request_headers_get_431()
    {
        var big = new string('a', 20_000);

        var result = await ExternalTool.CurlAsync(Service, "--http1.1", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Big: " + big, Service.BaseUrl + "/healthz");

        Assert.Equal("431", result.Output);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Oversized_header_over_http2_gets_431()
    {
        var result = await ExternalTool.CurlAsync(Service, "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "-H", "X-Big: " + new string('b', 20_000), Service.BaseUrl + "/healthz");

        Assert.Equal("2 431", result.Output);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Too_many_header_fields_get_431()
    {
        var arguments = new List<string> { "--http1.1", "-o", "/dev/null", "-w", "%{http_code}" };
        for (var i = 0; i < 100; i++)
        {
            arguments.Add("-H");
            arguments.Add($"X-Field-{i}: v");
        }

        arguments.Add(Service.BaseUrl + "/healthz");
        var result = await ExternalTool.CurlAsync(Service, [.. arguments]);

        Assert.Equal("431", result.Output);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Slowloris_clients_are_dropped_while_others_are_served()
    {
        var slow = new List<(TcpClient Client, SslStream Tls)>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var client = await ConnectAsync();
                var tls = new SslStream(client.GetStream(), false, (_, _, _, _) => true);
                await tls.AuthenticateAsClientAsync("localhost");
                await tls.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: "));
                await tls.FlushAsync();
                slow.Add((client, tls));
            }

            await AssertStillServesAsync();

            // Kestrel's request-headers timeout ends each stalled request.
            foreach (var (_, tls) in slow)
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                var buffer = new byte[1024];
                int n;
                try
                {
                    while ((n = await tls.ReadAsync(buffer, deadline.Token)) > 0)
                    {
                    }
                }
                catch (IOException)
                {
                }
            }
        }
        finally
        {
            foreach (var (client, tls) in slow)
            {
                tls.Dispose();
                client.Dispose();
            }
        }

        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Flood_of_half_open_connections_does_not_stop_service_and_they_are_dropped()
    {
        var idle = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 300; i++)
            {
                var client = await ConnectAsync();
                if (i % 2 == 0)
                {
                    // half a ClientHello record header, then silence
                    await client.GetStream().WriteAsync(new byte[] { 0x16, 0x03, 0x01 });
                }

                idle.Add(client);
            }

            await AssertStillServesAsync();
            await AssertStillServesAsync();

            // The handshake timeout closes them; the first one connected is the first dropped.
            var closed = await ReadToCloseAsync(idle[0].GetStream(), TimeSpan.FromSeconds(60));
            Assert.True(closed.Length == 0 || closed[0] == 0x15);
        }
        finally
        {
            foreach (var client in idle)
            {
                client.Dispose();
            }
        }

        await AssertStillServesAsync();
    }
}
