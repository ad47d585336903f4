using System.IO.Pipelines;

namespace Apps.Tls.Tests.TestSupport;

/// <summary>Two transport pipes joined back to back, like the two ends of a TCP connection.</summary>
internal static class MemoryTransport
{
    public static (IDuplexPipe Client, IDuplexPipe Server) Pair()
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        return (new End(toClient.Reader, toServer.Writer), new End(toServer.Reader, toClient.Writer));
    }

    private sealed record End(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
