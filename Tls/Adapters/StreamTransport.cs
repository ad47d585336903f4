using System.IO.Pipelines;

namespace Apps.Tls.Adapters;

/// <summary>A byte stream seen as a transport pipe; the stream stays open until the connection disposes it.</summary>
internal sealed class StreamTransport(Stream stream) : IDuplexPipe
{
    public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));

    public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
}
