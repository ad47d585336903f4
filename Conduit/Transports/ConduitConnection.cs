using System.IO.Pipelines;
using System.Net;
using Apps.Conduit.Endpoints;
using Apps.Tls.Adapters;
using Apps.Tls.Engine;

namespace Apps.Conduit.Transports;

/// <summary>
/// One connection as applications see it, whatever carries it: an <see cref="IDuplexPipe"/> (or a
/// <see cref="Stream"/> through <see cref="AsStream"/>) plus where it goes and what secures it. Completing
/// <see cref="IDuplexPipe.Output"/> half-closes (FIN, or close_notify then FIN under TLS); <see cref="DisposeAsync"/>
/// releases everything.
/// </summary>
public sealed class ConduitConnection : IDuplexPipe, IAsyncDisposable
{
    private readonly IDuplexPipe _pipe;
    private readonly Func<ValueTask> _dispose;
    private readonly Action _abort;
    private int _disposed;

    internal ConduitConnection(IDuplexPipe pipe, EndPoint? local, EndPoint? remote, string transport, Func<ValueTask> dispose, Action abort, TlsConnectionInfo? tls = null, CancellationToken closed = default)
    {
        Closed = closed;
        _pipe = pipe;
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        Transport = transport;
        _dispose = dispose;
        _abort = abort;
        Tls = tls;
    }

    public PipeReader Input => _pipe.Input;

    public PipeWriter Output => _pipe.Output;

    public EndPoint? LocalEndPoint { get; }

    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Which transport carries the connection ("host", "tap:NAME").</summary>
    public string Transport { get; }

    /// <summary>Cancelled when the transport sees the connection end (reset, abort, dispose).</summary>
    public CancellationToken Closed { get; }

    /// <summary>What TLS negotiated, or null for a plain connection.</summary>
    public TlsConnectionInfo? Tls { get; }

    /// <summary>For client connections: the host and port dialled and how the connection is secured
    /// (<see cref="TargetSecurity.StartTls"/> means the caller is to negotiate STARTTLS); null for accepted ones.</summary>
    public ConnectTarget? Target { get; internal set; }

    /// <summary>The connection as a stream; disposing the stream disposes the connection.</summary>
    public Stream AsStream() => new ConduitConnectionStream(this);

    /// <summary>Stops sending at once and resets the connection.</summary>
    public void Abort() => _abort();

    /// <summary>Wraps this connection's pipe in TLS already established over it.</summary>
    internal ConduitConnection WithTls(TlsConnection tls) =>
        new(tls, LocalEndPoint, RemoteEndPoint, Transport, async () =>
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            await DisposeAsync().ConfigureAwait(false);
        }, Abort, tls.Connection, Closed)
        {
            Target = Target,
        };

    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _disposed, 1) == 0 ? _dispose() : ValueTask.CompletedTask;
}

/// <summary>A <see cref="Stream"/> over a <see cref="ConduitConnection"/>'s pipes.</summary>
internal sealed class ConduitConnectionStream(ConduitConnection connection) : Stream
{
    private readonly Stream _input = connection.Input.AsStream();
    private readonly Stream _output = connection.Output.AsStream();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException("a connection has no length");

    public override long Position
    {
        get => throw new NotSupportedException("a connection has no position");
        set => throw new NotSupportedException("a connection has no position");
    }

    public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _input.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _input.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _output.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _output.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Flush() => _output.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await connection.Output.CompleteAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
