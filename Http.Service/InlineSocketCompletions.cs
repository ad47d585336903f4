namespace Apps.Http.Service;

/// <summary>
/// Runs socket completions on the socket engine's own threads (one per core, each waiting in epoll), as nginx runs
/// each connection in its worker's event loop, instead of handing every completion to a thread-pool worker. With
/// conduit's inline reads and sends, a keep-alive request is then read, decrypted, served, encrypted and sent on
/// the thread that saw it arrive, with no thread wake-up at all: about a sixth less CPU per small request, measured
/// with wrk (see design.md). .NET reads the switch once, from the environment, when the first socket is made, so
/// this must run before that; a value already set by whoever started the service is left as it is.
/// What it asks of the code on those threads: never block waiting for another connection's I/O. Our TLS shell, the
/// conduit transport and Kestrel never wait synchronously on the socket (TlsOutputWriter.Complete finishes in the
/// background), file reads complete on the thread pool, and what runs inline is CPU work (TLS, HTTP, compression),
/// as in nginx's workers. Kestrel's own sockets (the SslStream benchmark anchor) keep .NET's default.
/// </summary>
internal static class InlineSocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static void Enable()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}
