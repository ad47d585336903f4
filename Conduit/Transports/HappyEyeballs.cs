// Read this first: RFC 8305 (Happy Eyeballs v2).
// §3: ask for AAAA and A at once; start connecting as soon as AAAA answers, but when A answers first wait up to
//     the Resolution Delay (50 ms) for AAAA; addresses that arrive later join the attempts still to make.
// §4: alternate address families, IPv6 first (RFC 6724's default preference).
// §5: start one attempt; start the next when it fails or when the Connection Attempt Delay (250 ms) passes;
//     the first to connect wins and every other attempt is cancelled and its socket closed.
// Time comes from the injected TimeProvider; sockets and name lookups come through functions so tests can place
// them in a network namespace and control when answers arrive.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Apps.Conduit.Transports;

/// <summary>RFC 8305 connection racing over host sockets.</summary>
internal sealed class HappyEyeballs(
    Func<string, AddressFamily, CancellationToken, Task<IPAddress[]>> resolve,
    Func<AddressFamily, Socket> createSocket,
    TimeProvider time)
{
    /// <summary>RFC 8305 §3: how long to wait for AAAA once A has answered.</summary>
    public static readonly TimeSpan ResolutionDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>RFC 8305 §5: the recommended delay before racing the next address.</summary>
    public static readonly TimeSpan ConnectionAttemptDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>Connects to <paramref name="host"/> (a name or a literal) on <paramref name="port"/>.</summary>
    /// <exception cref="ConduitException">The name has no address, or no address accepted the connection.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; no socket is left open.</exception>
    public async Task<Socket> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var race = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var queue = new List<IPAddress>();
        var attempts = new List<Task<Socket?>>();
        var errors = new List<string>();
        Task<IPAddress[]>? aaaa = null;
        Task<IPAddress[]>? a = null;
        Task? resolutionDelay = null;
        Task? attemptDelay = null;
        AddressFamily? lastFamily = null;
        var gateOpen = true;
        var startNext = true;
        var attemptsMade = 0;
        Socket? winner = null;
        if (IPAddress.TryParse(host, out var literal))
        {
            queue.Add(literal);
        }
        else
        {
            aaaa = ResolveAsync(host, AddressFamily.InterNetworkV6, errors, race.Token);
            a = ResolveAsync(host, AddressFamily.InterNetwork, errors, race.Token);
            gateOpen = false;
        }

        try
        {
            while (winner is null)
            {
                if (startNext && gateOpen && queue.Count > 0)
                {
                    var address = queue[0];
                    queue.RemoveAt(0);
                    lastFamily = address.AddressFamily;
                    attempts.Add(AttemptAsync(address, port, race.Token));
                    attemptsMade++;
                    startNext = false;
                    attemptDelay = Task.Delay(ConnectionAttemptDelay, time, race.Token);
                }

                var waitFor = new List<Task>(attempts);
                AddIf(waitFor, aaaa);
                AddIf(waitFor, a);
                AddIf(waitFor, startNext ? null : attemptDelay);
                AddIf(waitFor, gateOpen ? null : resolutionDelay);
                if (waitFor.Count == 0)
                {
                    break; // nothing running and nothing to come: every address failed
                }

                var done = await Task.WhenAny(waitFor).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                if (done == aaaa || done == a)
                {
                    var family = done == aaaa ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
                    queue = Interleave([.. queue, .. await ((Task<IPAddress[]>)done).ConfigureAwait(false)], Next(lastFamily));
                    if (family == AddressFamily.InterNetworkV6)
                    {
                        aaaa = null;
                        gateOpen = true;
                    }
                    else
                    {
                        a = null;
                        if (!gateOpen && queue.Count > 0)
                        {
                            resolutionDelay = Task.Delay(ResolutionDelay, time, race.Token);
                        }
                    }

                    startNext |= attempts.Count == 0;
                }
                else if (done == resolutionDelay)
                {
                    gateOpen = true;
                }
                else if (done == attemptDelay)
                {
                    startNext = true;
                }
                else
                {
                    var attempt = (Task<Socket?>)done;
                    attempts.Remove(attempt);
                    winner = await attempt.ConfigureAwait(false);
                    startNext = true; // §5: a failed attempt lets the next one start at once
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

        if (winner is not null)
        {
            return winner;
        }

        if (attemptsMade == 0)
        {
            var why = errors.Count > 0 ? string.Join(", ", errors) : "no A or AAAA records";
            throw new ConduitException($"cannot resolve {host} ({why}); check the name and the resolver");
        }

        throw new ConduitException($"cannot connect to {host} port {port}: every address refused or timed out; check that the server runs and the port is right");
    }

    /// <summary>RFC 8305 §4: alternate families, starting with <paramref name="first"/> when it has addresses.</summary>
    internal static List<IPAddress> Interleave(IReadOnlyList<IPAddress> addresses, AddressFamily first)
    {
        var preferred = addresses.Where(x => x.AddressFamily == first).ToList();
        var other = addresses.Where(x => x.AddressFamily != first).ToList();
        var result = new List<IPAddress>(addresses.Count);
        for (var i = 0; i < Math.Max(preferred.Count, other.Count); i++)
        {
            if (i < preferred.Count)
            {
                result.Add(preferred[i]);
            }

            if (i < other.Count)
            {
                result.Add(other[i]);
            }
        }

        return result;
    }

    /// <summary>The family to try next: IPv6 first, then the one not tried last.</summary>
    private static AddressFamily Next(AddressFamily? last) =>
        last == AddressFamily.InterNetworkV6 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;

    private static void AddIf(List<Task> tasks, Task? task)
    {
        if (task is not null)
        {
            tasks.Add(task);
        }
    }

    private async Task<IPAddress[]> ResolveAsync(string host, AddressFamily family, List<string> errors, CancellationToken cancellationToken)
    {
        try
        {
            var addresses = await resolve(host, family, cancellationToken).ConfigureAwait(false);
            return addresses.Where(x => x.AddressFamily == family).ToArray();
        }
        catch (SocketException e)
        {
            lock (errors)
            {
                errors.Add($"{(family == AddressFamily.InterNetworkV6 ? "AAAA" : "A")}: {e.SocketErrorCode}");
            }

            return [];
        }
        catch (OperationCanceledException)
        {
            return [];
        }
    }

    /// <summary>One connection attempt, recorded as an event on the caller's span (the <c>conduit.connect</c> activity).</summary>
    private async Task<Socket?> AttemptAsync(IPAddress address, int port, CancellationToken cancellationToken)
    {
        var span = Activity.Current;
        span?.AddEvent(new ActivityEvent("conduit.attempt", tags: new ActivityTagsCollection { ["address"] = address.ToString() }));
        var socket = createSocket(address.AddressFamily);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            var outcome = e is SocketException failure ? failure.SocketErrorCode.ToString() : "cancelled";
            span?.AddEvent(new ActivityEvent("conduit.attempt_failed", tags: new ActivityTagsCollection { ["address"] = address.ToString(), ["error"] = outcome }));
            return null;
        }
    }
}
