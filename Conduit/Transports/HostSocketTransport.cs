using System.Net;
using System.Net.Sockets;

namespace Apps.Conduit.Transports;

/// <summary>Connections over the host's own TCP/IP stack (<c>--stack host</c>, the default).</summary>
public sealed class HostSocketTransport : IConduitTransport
{
    /// <summary>RFC 8305 §5: the recommended delay before racing the next address.</summary>
    private static readonly TimeSpan ConnectionAttemptDelay = TimeSpan.FromMilliseconds(250);

    private readonly TimeProvider _time;

    public HostSocketTransport(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    public string Name => "host";

    public async Task<ConduitConnection> ConnectAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await System.Net.Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new ConduitException($"cannot resolve {host} ({e.SocketErrorCode}); check the name and the resolver", e);
            }
        }

        if (addresses.Length == 0)
        {
            throw new ConduitException($"{host} has no addresses; check the name");
        }

        var socket = await HappyEyeballsAsync(Interleave(addresses), port, cancellationToken).ConfigureAwait(false)
            ?? throw new ConduitException($"cannot connect to {host} port {port}: every address refused or timed out; check that the server runs and the port is right");
        return Wrap(socket, Name, inlineReads: false);
    }

    public Task<IConduitListener> ListenAsync(IPEndPoint local, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (local.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(local);
            socket.Listen(512);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ConduitException($"cannot listen on {local} ({e.SocketErrorCode}); pick another address or port", e);
        }

        return Task.FromResult<IConduitListener>(new Listener(socket, Name));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Wraps a connected socket. Accepted (server) connections hand received data to the application inline
    /// (see <see cref="SocketPipe"/>); client connections keep a thread-pool hop, so that a client that blocks on its
    /// own connection cannot stall that connection's receive loop.</summary>
    internal static ConduitConnection Wrap(Socket socket, string transport, bool inlineReads)
    {
        var pipe = new SocketPipe(socket, inlineReads);
        pipe.Start();
        return new ConduitConnection(pipe, socket.LocalEndPoint, socket.RemoteEndPoint, transport, pipe.DisposeAsync, pipe.Abort, closed: pipe.Closed);
    }

    /// <summary>RFC 8305 §4: alternate address families, starting with the first one the resolver gave.</summary>
    internal static List<IPAddress> Interleave(IPAddress[] addresses)
    {
        var first = addresses[0].AddressFamily;
        var same = addresses.Where(a => a.AddressFamily == first).ToList();
        var other = addresses.Where(a => a.AddressFamily != first).ToList();
        var result = new List<IPAddress>(addresses.Length);
        for (var i = 0; i < Math.Max(same.Count, other.Count); i++)
        {
            if (i < same.Count)
            {
                result.Add(same[i]);
            }

            if (i < other.Count)
            {
                result.Add(other[i]);
            }
        }

        return result;
    }

    /// <summary>RFC 8305 §5: start one attempt, and another each time the delay passes or an attempt fails; first success wins.</summary>
    private async Task<Socket?> HappyEyeballsAsync(List<IPAddress> addresses, int port, CancellationToken cancellationToken)
    {
        using var race = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var attempts = new List<Task<Socket?>>();
        var next = 0;
        Socket? winner = null;
        try
        {
            while (winner is null && (next < addresses.Count || attempts.Count > 0))
            {
                if (next < addresses.Count)
                {
                    attempts.Add(AttemptAsync(addresses[next++], port, race.Token));
                }

                var waitFor = new List<Task>(attempts);
                if (next < addresses.Count)
                {
                    waitFor.Add(Task.Delay(ConnectionAttemptDelay, _time, race.Token));
                }

                var done = await Task.WhenAny(waitFor).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (done is Task<Socket?> attempt)
                {
                    attempts.Remove(attempt);
                    winner = await attempt.ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await race.CancelAsync().ConfigureAwait(false);
            foreach (var loser in attempts)
            {
                (await loser.ConfigureAwait(false))?.Dispose();
            }
        }

        return winner;
    }

    private static async Task<Socket?> AttemptAsync(IPAddress address, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            return null;
        }
    }

    private sealed class Listener(Socket socket, string transport) : IConduitListener
    {
        public IPEndPoint LocalEndPoint { get; } = (IPEndPoint)socket.LocalEndPoint!;

        public async ValueTask<ConduitConnection?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                Socket accepted;
                try
                {
                    accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is ObjectDisposedException || e is SocketException { SocketErrorCode: SocketError.OperationAborted })
                {
                    return null;
                }
                catch (SocketException)
                {
                    continue; // the client went away between SYN and accept
                }

                return Wrap(accepted, transport, inlineReads: true);
            }
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
