using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Apps.Tls.Adapters;
using Apps.Tls.Engine;

namespace Apps.Tls.Tests.TestSupport;

/// <summary>Our TLS server on 127.0.0.1 (random port) for real clients; each connection runs <c>handler</c>.</summary>
internal sealed class LoopbackTlsServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly ConcurrentBag<Task> _connections = [];

    public LoopbackTlsServer(TlsServerOptions options, Func<TlsConnection, Task> handler)
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                _connections.Add(Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            await using var connection = await TlsConnection.AcceptAsync(client.GetStream(), options);
                            Handshakes.Enqueue(connection.Connection);
                            await handler(connection);
                        }
                        catch (Exception e) when (e is TlsException or IOException or OperationCanceledException or InvalidOperationException)
                        {
                            Errors.Enqueue(e);
                        }
                    }
                }));
            }
        });
    }

    public int Port { get; }

    public ConcurrentQueue<TlsConnectionInfo> Handshakes { get; } = new();

    public ConcurrentQueue<Exception> Errors { get; } = new();

    /// <summary>Answers one HTTP/1.x request with <paramref name="body"/> and closes.</summary>
    public static Func<TlsConnection, Task> HttpResponder(string body) => async connection =>
    {
        var stream = connection.AsStream();
        var request = new MemoryStream();
        var buffer = new byte[4096];
        while (!System.Text.Encoding.ASCII.GetString(request.ToArray()).Contains("\r\n\r\n"))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                return;
            }

            request.Write(buffer, 0, read);
        }

        var response = $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n{body}";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(response));
        await connection.Output.CompleteAsync();
        var rest = new byte[256];
        using var linger = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            while (await stream.ReadAsync(rest, linger.Token) > 0)
            {
            }
        }
        catch (Exception e) when (e is TlsException or OperationCanceledException or IOException)
        {
            // The client may hang up without its own close_notify once it has the response.
        }
    };

    /// <summary>Echoes lines until the client closes.</summary>
    public static Func<TlsConnection, Task> Echo => async connection =>
    {
        var stream = connection.AsStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read));
        }
    };

    /// <summary>Echoes the first line, then sends close_notify and waits for the client to go.</summary>
    public static Func<TlsConnection, Task> EchoLine => async connection =>
    {
        var stream = connection.AsStream();
        var line = new MemoryStream();
        var buffer = new byte[1];
        while (await stream.ReadAsync(buffer) == 1)
        {
            line.WriteByte(buffer[0]);
            if (buffer[0] == (byte)'\n')
            {
                break;
            }
        }

        await stream.WriteAsync(line.ToArray());
        await connection.Output.CompleteAsync();
    };

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _acceptLoop;
        foreach (var connection in _connections)
        {
            try
            {
                await connection.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                // A stuck client connection must not hang the test run; its process is killed by its owner.
            }
        }

        _stop.Dispose();
    }
}
