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

    // CVE-2023-44487: a client opens streams and cancels them at once, so the server starts work it never gets to
    // finish. Kestrel bounds what such a connection may cost and ends it; everyone else must go on being served.
    [Fact]
    public async Task Http2_rapid_reset_flood_is_stopped_and_others_are_served_throughout()
    {
        await using var tls = await OpenHttp2Async();
        var goAway = ReadGoAwayAsync(tls);
        // A connection window that never runs out (RFC 9113 §6.9), so that only the resets are in play, not the
        // responses queueing for flow control.
        await tls.WriteAsync(Frame(type: 0x8, flags: 0, stream: 0, [0x7f, 0xff, 0x00, 0x00]));

        var streamId = 1;
        var pairsSent = 0;
        try
        {
            for (var batch = 0; batch < 200 && !goAway.IsCompleted; batch++)
            {
                var burst = new MemoryStream();
                for (var i = 0; i < 100; i++, streamId += 2)
                {
                    burst.Write(Frame(type: 0x1, flags: 0x5, streamId, RequestHeaderBlock)); // HEADERS, END_STREAM | END_HEADERS
                    burst.Write(Frame(type: 0x3, flags: 0, streamId, [0, 0, 0, 0x8])); // RST_STREAM, CANCEL
                }

                await tls.WriteAsync(burst.ToArray());
                pairsSent += 100;
                if (batch % 40 == 0)
                {
                    await AssertStillServesAsync();
                }
            }
        }
        catch (IOException)
        {
            // The server closed the connection under us.
        }

        // The server ends the connection long before the 20,000th pair (here after 4,000 to 8,000). Its GOAWAY says
        // why, though a client still writing may see the reset before it can read that frame: ENHANCE_YOUR_CALM
        // (RFC 9113 §7) when Kestrel counts too many streams reset, or INTERNAL_ERROR when the flood's responses
        // outgrow the queue Kestrel allows a connection ("exceeded the output operations maximum queue size"); which
        // one comes first is a matter of timing, with Kestrel's own sockets and SslStream too.
        var code = await goAway.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(pairsSent < 20_000, "the flood ran to its end without the server stopping it");
        Assert.Contains(code, new[] { -1, 0xb, 0x2 });

        await AssertStillServesAsync();
    }

    // The CONTINUATION flood (VU#421644, 2024): a header block that never ends, sent as CONTINUATION frames, so that
    // a server that buffers the block, or parses on without a bound, spends memory or CPU on a request that never
    // comes. Frames of literal header fields grow the block: Kestrel's header limits end the connection at once (a
    // connection error, RFC 9113 §4.3, since the block cannot be decoded further). Empty frames add nothing, so no
    // size limit is reached: the request-headers timeout (10 s) ends it, however fast the frames come.
    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public async Task Http2_continuation_flood_is_stopped_and_others_are_served_throughout(int payloadLength)
    {
        await using var tls = await OpenHttp2Async();
        var goAway = ReadGoAwayAsync(tls);
        await tls.WriteAsync(Frame(type: 0x1, flags: 0x1, stream: 1, [0x82, 0x87, 0x84])); // HEADERS, END_STREAM only

        var fragment = new byte[payloadLength];
        var framesSent = 0;
        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            for (var batch = 0; !goAway.IsCompleted && !giveUp.IsCancellationRequested; batch++)
            {
                var burst = new MemoryStream();
                for (var i = 0; i < 100; i++, framesSent++)
                {
                    if (payloadLength > 0)
                    {
                        // A literal header field, never indexed, new name (RFC 7541 §6.2.3): x-fNNN: vvv...
                        var name = Encoding.ASCII.GetBytes($"x-f{framesSent % 1000:D3}");
                        fragment.AsSpan().Fill((byte)'v');
                        fragment[0] = 0x10;
                        fragment[1] = (byte)name.Length;
                        name.CopyTo(fragment.AsSpan(2));
                        fragment[2 + name.Length] = (byte)(payloadLength - 3 - name.Length);
                    }

                    burst.Write(Frame(type: 0x9, flags: 0, stream: 1, fragment)); // CONTINUATION, no END_HEADERS
                }

                await tls.WriteAsync(burst.ToArray());
                if (batch % 500 == 0)
                {
                    await AssertStillServesAsync();
                }
            }
        }
        catch (IOException)
        {
            // The server closed the connection under us.
        }

        Assert.False(giveUp.IsCancellationRequested && !goAway.IsCompleted, $"{framesSent} CONTINUATION frames in 60 s, and the connection is still open");
        var code = await goAway.WaitAsync(TimeSpan.FromSeconds(30));
        // PROTOCOL_ERROR for a header limit, INTERNAL_ERROR for the timeout; -1 when the reset came before the GOAWAY.
        Assert.Contains(code, new[] { -1, 0x1, 0x2 });
        if (payloadLength > 0)
        {
            Assert.True(framesSent < 100_000, $"a header block of {framesSent} fields of {payloadLength} B was read on");
        }

        await AssertStillServesAsync();
    }

    /// <summary>A TLS connection that negotiated h2, the service's key checked by its pin, past the client preface.</summary>
    private async Task<SslStream> OpenHttp2Async()
    {
        var client = await ConnectAsync();
        var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false,
            (_, certificate, _, _) => certificate is not null && PinOf(certificate) == Service.PinBase64);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ApplicationProtocols = [SslApplicationProtocol.Http2],
            });
            Assert.Equal(SslApplicationProtocol.Http2, tls.NegotiatedApplicationProtocol);
            await tls.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray());
            await tls.WriteAsync(Frame(type: 0x4, flags: 0, stream: 0, [])); // SETTINGS, all defaults
            return tls;
        }
        catch
        {
            await tls.DisposeAsync(); // and with it the socket
            throw;
        }
    }

    // :method GET, :scheme https, :path / (static table entries 2, 7 and 4), :authority localhost (literal, not indexed).
    private static readonly byte[] RequestHeaderBlock = [0x82, 0x87, 0x84, 0x01, 0x09, .. "localhost"u8];

    private static byte[] Frame(byte type, byte flags, int stream, ReadOnlySpan<byte> payload)
    {
        // RFC 9113 §4.1: length (24 bits), type, flags, stream identifier (31 bits).
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), stream);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    /// <summary>Reads the server's frames until a GOAWAY and returns its error code; -1 if the connection ends without one.</summary>
    private static async Task<int> ReadGoAwayAsync(Stream tls)
    {
        var header = new byte[9];
        try
        {
            while (true)
            {
                await tls.ReadExactlyAsync(header);
                var length = (header[0] << 16) | (header[1] << 8) | header[2];
                var payload = new byte[length];
                await tls.ReadExactlyAsync(payload);
                if (header[3] == 0x7 && length >= 8)
                {
                    return System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(4));
                }
            }
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or ObjectDisposedException)
        {
            return -1;
        }
    }

    private static string PinOf(System.Security.Cryptography.X509Certificates.X509Certificate certificate)
    {
        using var parsed = new System.Security.Cryptography.X509Certificates.X509Certificate2(certificate);
        return Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(parsed.PublicKey.ExportSubjectPublicKeyInfo()));
    }
}
