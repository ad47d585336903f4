namespace Apps.Stack.Tcp;

/// <summary>A <see cref="Stream"/> over a <see cref="TcpConnection"/>'s pipes (for APIs that want a Stream).</summary>
internal sealed class TcpStream : Stream
{
    private readonly TcpConnection _connection;
    private readonly Stream _input;
    private readonly Stream _output;

    public TcpStream(TcpConnection connection)
    {
        _connection = connection;
        _input = connection.Input.AsStream(leaveOpen: true);
        _output = connection.Output.AsStream(leaveOpen: true);
    }

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException("a TCP stream has no length");
    public override long Position
    {
        get => throw new NotSupportedException("a TCP stream has no position");
        set => throw new NotSupportedException("a TCP stream cannot seek");
    }

    public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);
    public override int Read(Span<byte> buffer) => _input.Read(buffer);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _input.ReadAsync(buffer, offset, count, cancellationToken);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _input.ReadAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);
    public override void Write(ReadOnlySpan<byte> buffer) => _output.Write(buffer);
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _output.WriteAsync(buffer, offset, count, cancellationToken);
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _output.WriteAsync(buffer, cancellationToken);
    public override void Flush() => _output.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a TCP stream cannot seek");
    public override void SetLength(long value) => throw new NotSupportedException("a TCP stream has no length");

    protected override void Dispose(bool disposing)
    {
        if (disposing) _connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
