using System.Buffers;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;

namespace Apps.Tls.Tests.TestSupport;

/// <summary>One engine with the buffers a transport would own.</summary>
internal sealed class EngineEnd(TlsEngine engine)
{
    public TlsEngine Engine { get; } = engine;

    public ArrayBufferWriter<byte> Outbound { get; } = new();

    public ArrayBufferWriter<byte> Received { get; } = new();

    public List<TlsEvent> Events { get; } = [];

    public DateTimeOffset Now { get; set; } = TestPki.Now;

    public void Process(ReadOnlySpan<byte> input)
    {
        var result = Engine.Process(input, Now, Outbound, Received);
        if (result.Consumed != input.Length && result.State is not (TlsEngineState.Failed or TlsEngineState.PeerClosed or TlsEngineState.Closed))
        {
            throw new InvalidOperationException($"engine consumed {result.Consumed} of {input.Length} while {result.State}");
        }

        while (Engine.TryDequeueEvent(out var e))
        {
            Events.Add(e);
        }
    }

    public void Write(byte[] data) => Engine.Write(data, Outbound);

    public byte[] TakeReceived()
    {
        var data = Received.WrittenSpan.ToArray();
        Received.ResetWrittenCount();
        return data;
    }

    public T Single<T>() where T : TlsEvent => Assert.Single(Events.OfType<T>());
}

/// <summary>
/// A client and a server engine joined in memory (STYLE D.23): <see cref="Transfer"/> moves what one side
/// wrote into the other; <see cref="TransferAltered"/> lets a test tamper on the way.
/// </summary>
internal sealed class EnginePair
{
    public EnginePair(TlsClientOptions client, TlsServerOptions server)
    {
        Client = new EngineEnd(TlsEngine.CreateClient(client));
        Server = new EngineEnd(TlsEngine.CreateServer(server));
        Client.Process(default);
    }

    public EngineEnd Client { get; }

    public EngineEnd Server { get; }

    public static EnginePair Create(
        TestCertificate certificate,
        Func<TlsClientOptions, TlsClientOptions>? client = null,
        Func<TlsServerOptions, TlsServerOptions>? server = null)
    {
        var clientOptions = new TlsClientOptions
        {
            ServerName = "localhost",
            Verifier = new ExpectedKeyVerifier(certificate),
            Random = TestRandom.Create(),
        };
        var serverOptions = new TlsServerOptions
        {
            Credentials = new ServerCredentialSet(certificate.Credential),
            Random = TestRandom.Create(),
        };
        return new EnginePair(client?.Invoke(clientOptions) ?? clientOptions, server?.Invoke(serverOptions) ?? serverOptions);
    }

    /// <summary>Moves everything <paramref name="from"/> has queued into <paramref name="to"/>; returns the byte count.</summary>
    public static int Transfer(EngineEnd from, EngineEnd to) => TransferAltered(from, to, bytes => bytes);

    public static int TransferAltered(EngineEnd from, EngineEnd to, Func<byte[], byte[]> alter)
    {
        var bytes = from.Outbound.WrittenSpan.ToArray();
        from.Outbound.ResetWrittenCount();
        if (bytes.Length == 0)
        {
            return 0;
        }

        to.Process(alter(bytes));
        return bytes.Length;
    }

    /// <summary>Pumps both ways until nothing moves.</summary>
    public void Pump()
    {
        for (var round = 0; round < 20; round++)
        {
            var moved = Transfer(Client, Server) + Transfer(Server, Client);
            if (moved == 0)
            {
                return;
            }
        }

        throw new InvalidOperationException("engines kept talking for 20 rounds");
    }

    public void Handshake()
    {
        Pump();
        Assert.Equal(TlsEngineState.Open, Client.Engine.State);
        Assert.Equal(TlsEngineState.Open, Server.Engine.State);
    }
}
