// Read this first: the engine is a sans-IO wrapper around BouncyCastle's non-blocking TlsClientProtocol /
// TlsServerProtocol (RFC 8446, RFC 5246). It never touches a socket, clock or random source: bytes and the
// current time come in through Process, bytes to send and plaintext go out into caller-owned writers, and
// what happened is queued as TlsEvent. Invariants:
//   - input is handed to BouncyCastle one whole record at a time, so nothing after a close_notify or a
//     fatal alert is consumed, and at most one record (<= 5 + 2^14 + 2048 bytes) is ever buffered here;
//   - every BouncyCastle failure is caught and turned into a TlsException saying who is at fault;
//   - after Failed, nothing but the queued alert leaves the engine.
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>Where an engine is in its life.</summary>
public enum TlsEngineState
{
    /// <summary>The handshake is in progress.</summary>
    Handshaking,
    /// <summary>Application data flows both ways.</summary>
    Open,
    /// <summary>The peer sent close_notify; we may still write.</summary>
    PeerClosed,
    /// <summary>We sent close_notify; the peer may still write.</summary>
    WriteClosed,
    /// <summary>Both sides sent close_notify.</summary>
    Closed,
    /// <summary>A fatal error ended the connection; see <see cref="TlsEngine.Error"/>.</summary>
    Failed,
}

/// <summary>What one <see cref="TlsEngine.Process"/> call did.</summary>
/// <param name="Consumed">Bytes of input taken; the caller keeps the rest for later (or drops it when closed).</param>
/// <param name="State">The engine's state afterwards.</param>
public readonly record struct TlsProcessResult(int Consumed, TlsEngineState State);

/// <summary>
/// A sans-IO TLS 1.3/1.2 client or server (STYLE B.6): <see cref="Process"/> takes received bytes and the
/// current time, writes bytes to send and decrypted application data to caller-owned writers, and queues
/// events (<see cref="TryDequeueEvent"/>). Not thread-safe: one caller at a time.
/// </summary>
public sealed class TlsEngine
{
    private readonly TlsProtocol _protocol;
    private readonly IEngineProtocol _half;
    private readonly EngineContext _context;
    // A record split across inputs is gathered here; only its header until a body must be buffered, so that a connection
    // whose records always arrive whole (the usual case for handshakes) never holds a record-sized array.
    private byte[] _record = new byte[TlsPolicy.RecordHeaderLength];
    private int _recordFill;
    private int _recordLength;
    private bool _handshakeDone;
    private bool _writeClosed;
    private bool _peerClosed;

    private TlsEngine(TlsProtocol protocol, IEngineProtocol half, EngineContext context, bool isClient)
    {
        _protocol = protocol;
        _half = half;
        _context = context;
        IsClient = isClient;
    }

    /// <summary>A client engine; its ClientHello is ready on the first <see cref="Process"/> call.</summary>
    public static TlsEngine CreateClient(TlsClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var context = new EngineContext();
        var protocol = new EngineClientProtocol(context);
        var engine = new TlsEngine(protocol, protocol, context, true);
        engine.Guard(() => protocol.Connect(new EngineClient(options, context)));
        return engine;
    }

    /// <summary>A server engine waiting for a ClientHello.</summary>
    public static TlsEngine CreateServer(TlsServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var context = new EngineContext();
        var protocol = new EngineServerProtocol(context);
        var engine = new TlsEngine(protocol, protocol, context, false);
        engine.Guard(() => protocol.Accept(new EngineServer(options, context)));
        return engine;
    }

    public bool IsClient { get; }

    /// <summary>Configuration mistakes are the caller's, so they throw here rather than fail a handshake.</summary>
    private static void Validate(TlsOptions options)
    {
        TlsPolicy.Narrow(TlsPolicy.CipherSuites, options.CipherSuites);
        TlsPolicy.Narrow(TlsPolicy.Groups, options.Groups);
        foreach (var protocol in options.ApplicationProtocols)
        {
            if (protocol.Length is 0 or > 255)
            {
                throw new ArgumentException($"ALPN protocol names are 1 to 255 bytes (RFC 7301 §3.1): '{protocol}'", nameof(options));
            }
        }
    }

    /// <summary>Set once the handshake completed.</summary>
    public TlsConnectionInfo? Connection => _context.Connection;

    /// <summary>A server that has answered the ClientHello with its signed flight: the rest of its handshake is cheap
    /// (a MAC check, or one key agreement in TLS 1.2). Always false for a client.</summary>
    public bool AnsweredClientHello => _context.CredentialsChosen;

    /// <summary>Most application bytes we put in one record: 2^14, or less when the peer asked (RFC 8449).</summary>
    public int MaxRecordPlaintext => _context.SendPlaintextLimit;

    /// <summary>Set once the engine failed.</summary>
    public TlsException? Error { get; private set; }

    public TlsEngineState State =>
        Error is not null ? TlsEngineState.Failed
        : !_handshakeDone ? TlsEngineState.Handshaking
        : _peerClosed && _writeClosed ? TlsEngineState.Closed
        : _peerClosed ? TlsEngineState.PeerClosed
        : _writeClosed ? TlsEngineState.WriteClosed
        : TlsEngineState.Open;

    private bool CanReceive => Error is null && !_peerClosed && !_protocol.IsClosed;

    /// <summary>
    /// Feeds received bytes. Writes whatever must be sent to <paramref name="output"/> and decrypted
    /// application data to <paramref name="plaintext"/>. Call with empty input to collect pending output
    /// (the client's first flight).
    /// </summary>
    /// <param name="input">Bytes from the transport.</param>
    /// <param name="now">The current time; certificates are judged against it.</param>
    /// <param name="output">Receives bytes for the transport.</param>
    /// <param name="plaintext">Receives application data.</param>
    public TlsProcessResult Process(ReadOnlySpan<byte> input, DateTimeOffset now, IBufferWriter<byte> output, IBufferWriter<byte> plaintext) =>
        ProcessCore(input, null, now, output, plaintext);

    /// <summary>
    /// <see cref="Process(ReadOnlySpan{byte}, DateTimeOffset, IBufferWriter{byte}, IBufferWriter{byte})"/> for input
    /// the caller gives up: whole records in it are decrypted where they lie instead of being copied into the
    /// engine's record buffer first (the I/O shell passes the transport's consumed buffer).
    /// </summary>
    internal TlsProcessResult ProcessInPlace(ArraySegment<byte> input, DateTimeOffset now, IBufferWriter<byte> output, IBufferWriter<byte> plaintext) =>
        ProcessCore(input, input, now, output, plaintext);

    private TlsProcessResult ProcessCore(ReadOnlySpan<byte> input, ArraySegment<byte>? array, DateTimeOffset now, IBufferWriter<byte> output, IBufferWriter<byte> plaintext)
    {
        _context.CurrentTime = now;
        var consumed = 0;
        while (consumed < input.Length && CanReceive)
        {
            var rest = input[consumed..];
            if (array is { } whole && _recordFill == 0 && WholeRecordLength(rest) is > 0 and var recordLength)
            {
                consumed += recordLength;
                Offer(whole.Array!, whole.Offset + consumed - recordLength, recordLength);
                DrainPlaintext(plaintext);
                continue;
            }

            if (_recordFill < TlsPolicy.RecordHeaderLength)
            {
                var take = Math.Min(TlsPolicy.RecordHeaderLength - _recordFill, rest.Length);
                rest[..take].CopyTo(_record.AsSpan(_recordFill));
                _recordFill += take;
                consumed += take;
                if (_recordFill < TlsPolicy.RecordHeaderLength)
                {
                    break;
                }

                // RFC 8446 §5.1 / RFC 5246 §6.2: the length field bounds the record; an oversized one is
                // handed to BouncyCastle as a bare header so that it answers with record_overflow.
                var length = BinaryPrimitives.ReadUInt16BigEndian(_record.AsSpan(3, 2));
                if (length > TlsPolicy.MaxCiphertextLength)
                {
                    Offer(TlsPolicy.RecordHeaderLength);
                    if (Error is null)
                    {
                        Fail(new TlsFatalAlert(AlertDescription.record_overflow, "record longer than RFC 5246 §6.2.3 allows"));
                    }

                    break;
                }

                _recordLength = TlsPolicy.RecordHeaderLength + length;
                if (_record.Length < _recordLength)
                {
                    var record = new byte[TlsPolicy.RecordHeaderLength + TlsPolicy.MaxCiphertextLength];
                    _record.AsSpan(0, TlsPolicy.RecordHeaderLength).CopyTo(record);
                    _record = record;
                }

                if (length == 0)
                {
                    // An empty record (legal only for TLS 1.2 application data) is complete with its header.
                    _recordFill = 0;
                    Offer(TlsPolicy.RecordHeaderLength);
                    DrainPlaintext(plaintext);
                }

                continue;
            }

            var body = Math.Min(_recordLength - _recordFill, rest.Length);
            rest[..body].CopyTo(_record.AsSpan(_recordFill));
            _recordFill += body;
            consumed += body;
            if (_recordFill == _recordLength)
            {
                _recordFill = 0;
                Offer(_recordLength);
                DrainPlaintext(plaintext);
            }
        }

        DrainOutput(_protocol, output);
        return new TlsProcessResult(consumed, State);
    }

    /// <summary>Encrypts application data into records (at most 2^14 bytes each, RFC 8446 §5.1, or fewer when the
    /// peer's record_size_limit says so, RFC 8449), sealed straight into <paramref name="output"/> (DirectRecordTarget).</summary>
    public void Write(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        ThrowIfCannotWrite();
        _half.DirectOutput = output;
        try
        {
            var limit = _context.SendPlaintextLimit;
            while (data.Length > limit)
            {
                _protocol.WriteApplicationData(data[..limit]);
                data = data[limit..];
            }

            _protocol.WriteApplicationData(data);
        }
        catch (Exception e) when (IsProtocolFailure(e))
        {
            Fail(e);
        }
        finally
        {
            _half.DirectOutput = null;
        }

        DrainOutput(_protocol, output);
    }

    /// <summary>Sends close_notify (RFC 8446 §6.1): no more data from us; the peer may still send.</summary>
    public void CloseWrite(IBufferWriter<byte> output)
    {
        if (Error is not null || _writeClosed)
        {
            DrainOutput(_protocol, output);
            return;
        }

        if (!_handshakeDone)
        {
            throw new TlsApiMisuseException("close_notify can be sent only after the handshake; abandon the connection instead");
        }

        _writeClosed = true;
        Guard(_half.CloseWrite);
        DrainOutput(_protocol, output);
    }

    /// <summary>Sends a KeyUpdate asking the peer to update too (RFC 8446 §4.6.3). TLS 1.3 only.</summary>
    public void RequestKeyUpdate(IBufferWriter<byte> output)
    {
        ThrowIfCannotWrite();
        if (Connection?.Version != TlsVersion.Tls13)
        {
            throw new TlsApiMisuseException("KeyUpdate exists only in TLS 1.3");
        }

        Guard(_half.RequestKeyUpdate);
        DrainOutput(_protocol, output);
    }

    /// <summary>Takes the next queued event, if any.</summary>
    public bool TryDequeueEvent(out TlsEvent tlsEvent) => _context.Events.TryDequeue(out tlsEvent!);

    private void ThrowIfCannotWrite()
    {
        if (Error is not null)
        {
            throw Error;
        }

        if (!_handshakeDone)
        {
            throw new TlsApiMisuseException("application data can be written only after the handshake completed");
        }

        if (_writeClosed)
        {
            throw new TlsApiMisuseException("the write side is closed (close_notify was sent)");
        }
    }

    /// <summary>The length of the non-empty, lawfully sized record at the start of <paramref name="rest"/>, when
    /// it is all there; else 0 (the copying path handles partial, empty and oversized records).</summary>
    private static int WholeRecordLength(ReadOnlySpan<byte> rest)
    {
        if (rest.Length < TlsPolicy.RecordHeaderLength)
        {
            return 0;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(rest[3..]);
        return length is > 0 and <= TlsPolicy.MaxCiphertextLength && rest.Length >= TlsPolicy.RecordHeaderLength + length
            ? TlsPolicy.RecordHeaderLength + length
            : 0;
    }

    private void Offer(int length) => Offer(_record, 0, length);

    private void Offer(byte[] buffer, int offset, int length)
    {
        // Guard's body inlined: a closure per record offered is an allocation on the data path.
        try
        {
            _protocol.OfferInput(buffer, offset, length);
        }
        catch (Exception e) when (IsProtocolFailure(e))
        {
            Fail(e);
        }

        NoteHandshakeDone();
        if (!_peerClosed && _half.PeerClosed)
        {
            _peerClosed = true;
            _context.Events.Enqueue(new TlsPeerClosed());
        }
    }

    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (IsProtocolFailure(e))
        {
            Fail(e);
        }

        NoteHandshakeDone();
    }

    private void NoteHandshakeDone()
    {
        if (!_handshakeDone && _context.Connection is not null)
        {
            _handshakeDone = true;
        }
    }

    /// <summary>BouncyCastle reports protocol failures as IOException (TlsFatalAlert and friends); its parsers
    /// may also throw argument or state exceptions on hostile input.</summary>
    private static bool IsProtocolFailure(Exception e) =>
        e is IOException or InvalidOperationException or ArgumentException or IndexOutOfRangeException
            or OverflowException or Org.BouncyCastle.Crypto.CryptoException;

    private void Fail(Exception e)
    {
        if (Error is not null)
        {
            return;
        }

        Error = TlsFailure.Classify(e, _context, IsClient);
        _context.Events.Enqueue(new TlsFailed(Error));
    }

    /// <summary>Moves every byte BouncyCastle queued for sending into <paramref name="output"/>.</summary>
    internal static void DrainOutput(TlsProtocol protocol, IBufferWriter<byte> output)
    {
        int available;
        while ((available = protocol.GetAvailableOutputBytes()) > 0)
        {
            var memory = output.GetMemory(available);
            var count = Math.Min(available, memory.Length);
            if (MemoryMarshal.TryGetArray<byte>(memory, out var segment))
            {
                count = protocol.ReadOutput(segment.Array!, segment.Offset, count);
            }
            else
            {
                var scratch = ArrayPool<byte>.Shared.Rent(count);
                count = protocol.ReadOutput(scratch, 0, count);
                scratch.AsSpan(0, count).CopyTo(memory.Span);
                ArrayPool<byte>.Shared.Return(scratch);
            }

            output.Advance(count);
        }
    }

    private void DrainPlaintext(IBufferWriter<byte> plaintext)
    {
        int available;
        while ((available = _protocol.GetAvailableInputBytes()) > 0)
        {
            var memory = plaintext.GetMemory(available);
            var count = Math.Min(available, memory.Length);
            if (MemoryMarshal.TryGetArray<byte>(memory, out var segment))
            {
                count = _protocol.ReadInput(segment.Array!, segment.Offset, count);
            }
            else
            {
                var scratch = ArrayPool<byte>.Shared.Rent(count);
                count = _protocol.ReadInput(scratch, 0, count);
                scratch.AsSpan(0, count).CopyTo(memory.Span);
                ArrayPool<byte>.Shared.Return(scratch);
            }

            plaintext.Advance(count);
        }
    }
}
