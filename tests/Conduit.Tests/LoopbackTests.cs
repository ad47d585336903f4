using System.Buffers;
using System.Net;
using System.Text;
using Apps.Conduit.Endpoints;
using Apps.Conduit.Transports;
using Apps.Conduit.Trust;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Verification;
using Apps.TrustStore.Store;

namespace Apps.Conduit.Tests;

/// <summary>Both ends are conduit: listen and connect, plain, TLS and STARTTLS, over host sockets on loopback.</summary>
public sealed class LoopbackTests(EntropyFixture entropy) : IClassFixture<EntropyFixture>, IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("conduit-loop-");

    public void Dispose() => _directory.Delete(recursive: true);

    private TlsServerOptions ServerOptions(out SelfSignedCertificate certificate)
    {
        certificate = ApplianceCertificate.Create(["localhost"], DateTimeOffset.UtcNow, entropy.Runtime.CreateSecureRandom());
        return new TlsServerOptions
        {
            Random = entropy.Runtime.CreateSecureRandom(),
            Credentials = new ServerCredentialSet(certificate.Credential),
            ApplicationProtocols = ["echo"],
        };
    }

    private static async Task EchoOnceAsync(ConduitListener listener)
    {
        await using var connection = await listener.AcceptAsync() ?? throw new InvalidOperationException("listener stopped");
        while (true)
        {
            var result = await connection.Input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                await connection.Output.WriteAsync(segment);
            }

            connection.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await connection.Output.CompleteAsync();
    }

    private static async Task<byte[]> RoundTripAsync(ConduitConnection connection, byte[] data)
    {
        var stream = connection.AsStream();
        var reading = Task.Run(async () =>
        {
            var received = new MemoryStream();
            await stream.CopyToAsync(received);
            return received.ToArray();
        });
        await connection.Output.WriteAsync(data);
        await connection.Output.CompleteAsync();
        return await reading;
    }

    [Fact]
    public async Task Plain_tcp_echo_round_trips_a_megabyte_and_half_closes()
    {
        await using var network = new ConduitNetwork(new ConduitOptions());
        await using var listener = await network.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var server = EchoOnceAsync(listener);
        var data = RandomBytes(1 << 20);

        await using var client = await network.ConnectAsync(ConduitEndpoint.Parse($"tcp://127.0.0.1:{listener.LocalEndPoint.Port}"));
        var echoed = await RoundTripAsync(client, data);
        await server;

        Assert.Equal(data, echoed);
        Assert.Null(client.Tls);
    }

    [Fact]
    public async Task Tls_listener_and_tls_client_echo_with_tofu_pin_and_alpn()
    {
        var serverOptions = ServerOptions(out var certificate);
        using var store = PinStore.Open(Path.Combine(_directory.FullName, "trust.db"));
        await using var network = new ConduitNetwork(new ConduitOptions
        {
            Random = entropy.Runtime.CreateSecureRandom(),
            Trust = new ServerTrust { Verifier = StrictCertificateVerifier.WithSystemRoots(), Store = store, Service = "echo" },
        });
        await using var listener = await network.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0), serverOptions);
        var server = EchoOnceAsync(listener);
        var data = RandomBytes(200_000);

        await using var client = await network.ConnectAsync(ConduitEndpoint.Parse($"tls://localhost:{listener.LocalEndPoint.Port}"), ["echo"]);
        var echoed = await RoundTripAsync(client, data);
        await server;

        Assert.Equal(data, echoed);
        Assert.Equal("echo", client.Tls!.ApplicationProtocol);
        Assert.Equal(certificate.Credential.Chain[0], client.Tls.PeerChain[0]);
        Assert.Single(store.PinsFor("localhost", listener.LocalEndPoint.Port));
    }

    [Fact]
    public async Task Starttls_upgrades_an_open_plain_connection()
    {
        var serverOptions = ServerOptions(out _);
        using var store = PinStore.Open(Path.Combine(_directory.FullName, "starttls.db"));
        await using var network = new ConduitNetwork(new ConduitOptions
        {
            Random = entropy.Runtime.CreateSecureRandom(),
            Trust = new ServerTrust { Verifier = StrictCertificateVerifier.WithSystemRoots(), Store = store, Service = "xmpp-client" },
        });
        await using var listener = await network.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var server = Task.Run(async () =>
        {
            var plain = await listener.AcceptAsync() ?? throw new InvalidOperationException("listener stopped");
            var line = await ReadLineAsync(plain);
            Assert.Equal("STARTTLS", line);
            await plain.Output.WriteAsync(Encoding.ASCII.GetBytes("PROCEED\n"));
            await using var secured = await network.AcceptTlsAsync(plain, serverOptions);
            await secured.Output.WriteAsync(Encoding.ASCII.GetBytes("secret hello\n"));
            await secured.Output.CompleteAsync();
            return secured.Tls!.Version;
        });

        var client = await network.ConnectAsync(ConduitEndpoint.Parse($"xmpp://localhost:{listener.LocalEndPoint.Port}"));
        await client.Output.WriteAsync(Encoding.ASCII.GetBytes("STARTTLS\n"));
        Assert.Equal("PROCEED", await ReadLineAsync(client));
        await using var upgraded = await network.StartTlsAsync(client, "localhost", listener.LocalEndPoint.Port);
        var text = await new StreamReader(upgraded.AsStream()).ReadToEndAsync();

        Assert.Equal("secret hello\n", text);
        Assert.Equal(TlsVersion.Tls13, upgraded.Tls!.Version);
        Assert.Equal(TlsVersion.Tls13, await server);
    }

    [Fact]
    public void Addresses_alternate_families_starting_with_the_preferred_one()
    {
        IPAddress[] resolved = [IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8::1"), IPAddress.Parse("2001:db8::2"), IPAddress.Parse("2001:db8::3"),
            IPAddress.Parse("192.0.2.2")];

        var order = HappyEyeballs.Interleave(resolved, System.Net.Sockets.AddressFamily.InterNetworkV6);

        Assert.Equal(["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3"], order.Select(a => a.ToString()));
    }

    [Fact]
    public async Task Connecting_to_a_closed_port_fails_with_a_one_line_reason()
    {
        await using var network = new ConduitNetwork(new ConduitOptions());
        var port = TestPeers.FreePort();

        var failure = await Assert.ThrowsAsync<ConduitException>(() => network.ConnectAsync(ConduitEndpoint.Parse($"tcp://127.0.0.1:{port}")));

        Assert.Contains($"port {port}", failure.Message);
        Assert.DoesNotContain("\n", failure.Message);
    }

    private static async Task<string> ReadLineAsync(ConduitConnection connection)
    {
        while (true)
        {
            var result = await connection.Input.ReadAsync();
            var buffer = result.Buffer;
            var newline = buffer.PositionOf((byte)'\n');
            if (newline is { } end)
            {
                var line = Encoding.ASCII.GetString(buffer.Slice(0, end));
                connection.Input.AdvanceTo(buffer.GetPosition(1, end));
                return line;
            }

            connection.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new EndOfStreamException("the peer closed before a full line");
            }
        }
    }

    private static byte[] RandomBytes(int count)
    {
        var data = new byte[count];
        new Random(count).NextBytes(data);
        return data;
    }
}
