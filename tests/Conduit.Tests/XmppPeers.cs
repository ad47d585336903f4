using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Apps.Conduit.Transports;

namespace Apps.Conduit.Tests;

/// <summary>Prosody 0.12 as a real XMPP server on 127.0.0.1: one STARTTLS (c2s) port and one direct TLS port
/// (XEP-0368), for one domain with the given certificate. Dispose kills it.</summary>
internal sealed class Prosody : IAsyncDisposable
{
    private readonly Process _process;

    private Prosody(Process process, int starttlsPort, int directTlsPort)
    {
        _process = process;
        StartTlsPort = starttlsPort;
        DirectTlsPort = directTlsPort;
    }

    public int StartTlsPort { get; }

    public int DirectTlsPort { get; }

    public static async Task<Prosody> StartAsync(string directory, string domain, string certificate, string key)
    {
        for (var attempt = 0; ; attempt++)
        {
            int starttls, direct;
            using (var first = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
            using (var second = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
            {
                // Both held at once, so the two ports differ.
                first.Start();
                second.Start();
                (starttls, direct) = (((IPEndPoint)first.LocalEndpoint).Port, ((IPEndPoint)second.LocalEndpoint).Port);
            }

            var data = Directory.CreateDirectory(Path.Combine(directory, $"prosody-{starttls}")).FullName;
            var config = Path.Combine(data, "prosody.cfg.lua");
            File.WriteAllText(config, $$"""
                run_as_root = true
                pidfile = "{{data}}/prosody.pid"
                data_path = "{{data}}"
                certificates = "{{data}}"
                interfaces = { "127.0.0.1" }
                c2s_ports = { {{starttls}} }
                c2s_direct_tls_ports = { {{direct}} }
                s2s_ports = { }
                c2s_require_encryption = true
                authentication = "internal_hashed"
                storage = "internal"
                log = { info = "{{data}}/prosody.log" }
                modules_enabled = { "tls", "saslauth", "disco", "roster" }
                ssl = { certificate = "{{certificate}}", key = "{{key}}" }
                VirtualHost "{{domain}}"
                  ssl = { certificate = "{{certificate}}", key = "{{key}}" }
                """);
            var start = new ProcessStartInfo("prosody") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in (string[])["--config", config, "-F"])
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start)!;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new Prosody(process, starttls, direct);
            for (var tries = 0; tries < 300 && !process.HasExited; tries++)
            {
                if (await AcceptsAsync(starttls) && await AcceptsAsync(direct))
                {
                    return server;
                }

                await Task.Delay(100);
            }

            await server.DisposeAsync();
            if (attempt == 4)
            {
                throw new InvalidOperationException($"prosody did not start; see {data}/prosody.log");
            }
        }
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var probe = new TcpClient();
            await probe.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

/// <summary>Just enough of an XMPP stream (RFC 6120 §4, §5) to reach STARTTLS and see the features after it.</summary>
internal static class XmppStream
{
    public const string TlsNamespace = "urn:ietf:params:xml:ns:xmpp-tls";

    /// <summary>Opens a client stream to <paramref name="domain"/> and returns the server's features element.</summary>
    public static async Task<string> OpenAsync(ConduitConnection connection, string domain)
    {
        await connection.Output.WriteAsync(Encoding.UTF8.GetBytes(
            $"<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"));
        var text = await ReadUntilAsync(connection, "</stream:features>");
        return text[text.IndexOf("<stream:features", StringComparison.Ordinal)..];
    }

    /// <summary>Asks for STARTTLS (RFC 6120 §5.4.2.1) and waits for &lt;proceed/&gt;.</summary>
    public static async Task RequestStartTlsAsync(ConduitConnection connection)
    {
        await connection.Output.WriteAsync(Encoding.UTF8.GetBytes($"<starttls xmlns='{TlsNamespace}'/>"));
        var answer = await ReadUntilAsync(connection, "/>");
        Assert.Contains("<proceed", answer);
    }

    /// <summary>Reads text until <paramref name="marker"/> has arrived; the peer sends nothing after it that we need.</summary>
    public static async Task<string> ReadUntilAsync(ConduitConnection connection, string marker)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var text = new StringBuilder();
        while (true)
        {
            var result = await connection.Input.ReadAsync(patience.Token);
            text.Append(Encoding.UTF8.GetString(result.Buffer.ToArray()));
            connection.Input.AdvanceTo(result.Buffer.End);
            if (text.ToString().Contains(marker, StringComparison.Ordinal))
            {
                return text.ToString();
            }

            if (result.IsCompleted)
            {
                throw new EndOfStreamException($"the XMPP peer closed before '{marker}': {text}");
            }
        }
    }
}
