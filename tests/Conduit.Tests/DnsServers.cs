using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Apps.Conduit.Dns;
using Org.BouncyCastle.Security;

namespace Apps.Conduit.Tests;

/// <summary>dnsmasq serving SRV records on 127.0.0.1 on a free port, authoritative for <c>.test</c> (other names
/// there get NXDOMAIN). Dispose stops it.</summary>
internal sealed class Dnsmasq : IAsyncDisposable
{
    private readonly Process _process;

    private Dnsmasq(Process process, IPEndPoint endPoint)
    {
        _process = process;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Starts dnsmasq with <c>--srv-host</c> lines (dnsmasq's order: name,target,port,priority,weight) and
    /// waits until it answers.</summary>
    public static async Task<Dnsmasq> StartAsync(SecureRandom random, params string[] srvHosts)
    {
        for (var attempt = 0; ; attempt++)
        {
            int port;
            using (var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
            {
                port = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
            }

            var start = new ProcessStartInfo("dnsmasq") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in (string[])["--no-daemon", "--conf-file=/dev/null", "--user=root", "--pid-file=", $"--port={port}",
                         "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts", "--local=/test/",
                         "--srv-host=_probe._tcp.ready.test,ready.test,1", .. srvHosts.Select(s => "--srv-host=" + s)])
            {
                start.ArgumentList.Add(argument);
            }

            var process = Process.Start(start)!;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new Dnsmasq(process, new IPEndPoint(IPAddress.Loopback, port));
            var resolver = new DnsResolver(random, server.EndPoint, TimeSpan.FromSeconds(1));
            for (var tries = 0; tries < 60 && !process.HasExited; tries++)
            {
                try
                {
                    await resolver.QuerySrvAsync("_probe._tcp.ready.test");
                    return server;
                }
                catch (Exception e) when (e is TimeoutException or SocketException)
                {
                    await Task.Delay(100); // still starting
                }
            }

            await server.DisposeAsync();
            if (attempt == 4)
            {
                throw new InvalidOperationException("dnsmasq did not start answering on 127.0.0.1");
            }
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

/// <summary>A DNS server on 127.0.0.1 that answers each query with whatever bytes the test makes from (id, name):
/// the way to send hostile answers through a real UDP exchange.</summary>
internal sealed class ScriptedDnsServer : IDisposable
{
    private readonly UdpClient _socket = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly Task _serving;

    public ScriptedDnsServer(Func<ushort, string, IEnumerable<byte[]>> respond) => _serving = ServeAsync(respond);

    public IPEndPoint EndPoint => (IPEndPoint)_socket.Client.LocalEndPoint!;

    private async Task ServeAsync(Func<ushort, string, IEnumerable<byte[]>> respond)
    {
        while (true)
        {
            UdpReceiveResult query;
            try
            {
                query = await _socket.ReceiveAsync();
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                return;
            }

            var bytes = query.Buffer;
            var id = (ushort)(bytes[0] << 8 | bytes[1]);
            var labels = new List<string>();
            for (var at = 12; bytes[at] != 0; at += 1 + bytes[at])
            {
                labels.Add(Encoding.ASCII.GetString(bytes, at + 1, bytes[at]));
            }

            try
            {
                foreach (var response in respond(id, string.Join('.', labels)))
                {
                    await _socket.SendAsync(response, query.RemoteEndPoint);
                }
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                return; // disposed while answering
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
