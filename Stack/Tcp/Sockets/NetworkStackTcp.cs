using System.Runtime.CompilerServices;
using Apps.Stack.Wire;
using Microsoft.Extensions.Logging;

namespace Apps.Stack.Tcp;

/// <summary>
/// TCP on a <see cref="NetworkStack"/>: <c>await stack.ConnectTcpAsync(address, port)</c> and
/// <c>await stack.ListenTcpAsync(port)</c>. TCP is plugged into the stack on first use (or
/// explicitly with <see cref="UseTcpAsync"/> to choose settings and the randomness source).
/// </summary>
public static class NetworkStackTcp
{
    private static readonly ConditionalWeakTable<NetworkStack, Task<TcpTransport>> Transports = new();

    /// <summary>
    /// Plugs TCP into <paramref name="stack"/> with <paramref name="settings"/>; <paramref name="random"/>
    /// (default: the stack's injected randomness) keys the RFC 6528 sequence numbers and picks ephemeral
    /// ports; <paramref name="loggerFactory"/> receives connection events (category <c>Apps.Stack.Tcp</c>).
    /// </summary>
    /// <exception cref="InvalidOperationException">TCP is already plugged into this stack.</exception>
    public static Task UseTcpAsync(this NetworkStack stack, TcpSettings settings, Action<Span<byte>>? random = null, ILoggerFactory? loggerFactory = null)
    {
        lock (Transports)
        {
            if (Transports.TryGetValue(stack, out _))
                throw new InvalidOperationException("TCP is already in use on this stack; call UseTcpAsync before any other TCP call");
            var attach = Attach(stack, settings, random, loggerFactory);
            Transports.Add(stack, attach);
            return attach;
        }
    }

    /// <summary>Opens a connection to <paramref name="address"/>:<paramref name="port"/>.</summary>
    /// <exception cref="TcpConnectionException">Refused, or timed out (after <paramref name="timeout"/>, or the SYN retries).</exception>
    /// <exception cref="NetworkStackException">The stack has no address.</exception>
    public static async Task<TcpConnection> ConnectTcpAsync(this NetworkStack stack, Ipv4Address address, ushort port,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var transport = await TransportOf(stack).ConfigureAwait(false);
        var connection = await transport.InvokeAsync(now => transport.Connect(address, port, timeout, now)).ConfigureAwait(false);
        try
        {
            await connection.Established.WaitAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (OperationCanceledException)
        {
            connection.Abort();
            throw;
        }
    }

    /// <summary>Listens on <paramref name="port"/> with at most <paramref name="backlog"/> connections waiting to be accepted.</summary>
    /// <exception cref="InvalidOperationException">The port already has a listener.</exception>
    public static async Task<TcpListener> ListenTcpAsync(this NetworkStack stack, ushort port, int backlog = 128, int synQueueLimit = 256)
    {
        var transport = await TransportOf(stack).ConfigureAwait(false);
        return await transport.InvokeAsync(_ => transport.Listen(port, backlog, synQueueLimit)).ConfigureAwait(false);
    }

    /// <summary>TCP counters of <paramref name="stack"/> (null until TCP is used on it).</summary>
    public static TcpCounters? TcpCounters(this NetworkStack stack) =>
        Transports.TryGetValue(stack, out var t) && t.IsCompletedSuccessfully ? t.Result.Counters : null;

    private static Task<TcpTransport> TransportOf(NetworkStack stack)
    {
        lock (Transports)
        {
            if (!Transports.TryGetValue(stack, out var attach))
            {
                attach = Attach(stack, new TcpSettings(), null, null);
                Transports.Add(stack, attach);
            }
            return attach;
        }
    }

    private static async Task<TcpTransport> Attach(NetworkStack stack, TcpSettings settings, Action<Span<byte>>? random, ILoggerFactory? loggerFactory)
    {
        var transport = new TcpTransport(stack.Loop, settings, random ?? stack.RandomBytes, loggerFactory?.CreateLogger("Apps.Stack.Tcp"), stack.Stopped);
        await stack.AttachTcpAsync(transport).ConfigureAwait(false);
        return transport;
    }
}
