using Apps.Tls.Adapters;

namespace Apps.Http.Service;

/// <summary>
/// How .NET's socket engine runs a completion: by default one event thread waits in epoll and hands every completion
/// to the thread pool, a thread wake and two context switches per request, which perf put at a sixth of a small
/// request's CPU. With inline completions each of N event threads runs the completion itself: our TLS, then Kestrel
/// and the request, on the thread that saw the socket ready, as nginx's workers do. TLS handshakes still move to the
/// pool (TlsConnection does that off pool threads), so a key exchange never holds an event thread: to its
/// <see cref="HandshakeLane"/>, on as many pool threads as the event threads leave cores (at least one).
/// </summary>
/// <remarks>
/// The runtime reads both settings from the environment once, when the first socket is used, so
/// <see cref="Configure"/> must run before that. Settings the user put in the environment are left alone.
/// </remarks>
internal static class SocketEventThreads
{
    private const string InlineVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    private const string CountVariable = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    /// <summary>The most <c>--io-threads</c> accepts.</summary>
    public const int Max = 256;

    /// <summary>Half the cores, at least one: the other half is left to handshakes, the GC and the pool. On two cores
    /// shared with the load tool, two event threads served fewer requests than one (see design.md).</summary>
    public static int Default => Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Whether completions run inline on the event threads (as configured, or as the user's environment says).</summary>
    public static bool Inline => Environment.GetEnvironmentVariable(InlineVariable) == "1";

    /// <summary>The event threads the runtime runs (its default is one per core when inline, one otherwise).</summary>
    private static int Count => int.TryParse(Environment.GetEnvironmentVariable(CountVariable), out var n) && n > 0 ? n : Inline ? Environment.ProcessorCount : 1;

    /// <summary>For the status page: where requests and handshakes on host sockets run.</summary>
    public static string Describe()
    {
        if (!Inline)
        {
            return "socket completions handed to the thread pool";
        }

        var lane = HandshakeLane.Concurrency;
        return (Count == 1 ? "requests run on 1 socket event thread" : $"requests run on {Count} socket event threads")
            + (lane == 1 ? ", TLS handshakes on 1 pool thread" : $", TLS handshakes on up to {lane} pool threads");
    }

    /// <summary>Runs completions inline on <paramref name="threads"/> event threads; 0 keeps .NET's default (one event
    /// thread, completions on the pool).</summary>
    public static void Configure(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threads, Max);
        if (threads > 0 && Environment.GetEnvironmentVariable(InlineVariable) is null && Environment.GetEnvironmentVariable(CountVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineVariable, "1");
            Environment.SetEnvironmentVariable(CountVariable, threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // Handshakes that arrive on event threads get the cores those leave, one at least: fewer lane threads than the
        // pool's minimum, so a burst of new connections never has the pool wait to add a thread (design.md).
        if (Inline)
        {
            HandshakeLane.Concurrency = Math.Max(1, Environment.ProcessorCount - Count);
        }
    }
}
