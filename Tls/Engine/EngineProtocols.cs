using System.Buffers;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>
/// What the engine needs from BouncyCastle's protocol objects beyond their public API: half-close
/// (RFC 8446 §6.1) and sending a KeyUpdate (RFC 8446 §4.6.3).
/// </summary>
internal interface IEngineProtocol
{
    /// <summary>The peer's close_notify arrived; its write side is closed.</summary>
    bool PeerClosed { get; }

    /// <summary>Sends close_notify; when the peer already closed, the whole connection closes.</summary>
    void CloseWrite();

    /// <summary>Sends a TLS 1.3 KeyUpdate asking the peer to update as well.</summary>
    void RequestKeyUpdate();

    /// <summary>While set, application-data records are sealed straight into this writer (see
    /// <see cref="DirectRecordTarget"/>); everything else still goes through BouncyCastle's output queue.</summary>
    IBufferWriter<byte>? DirectOutput { get; set; }
}

/// <summary>
/// BouncyCastle answers a close_notify at once with its own and closes both directions (RFC 5246 §7.2.1
/// behaviour). RFC 8446 §6.1 lets each side close its write side alone, so the answer is left to the caller.
/// </summary>
internal sealed class EngineClientProtocol(EngineContext context) : TlsClientProtocol, IEngineProtocol
{
    private bool _writeClosed;

    public IBufferWriter<byte>? DirectOutput { get; set; }

    private RecordWriter? _writeRecord;

    protected override void WriteRecord(short type, ReadOnlySpan<byte> buffer) =>
        DirectRecordTarget.Write(this, type, buffer, DirectOutput, m_outputBuffer.Buffer, _writeRecord ??= base.WriteRecord);

    /// <summary>Called once the server's extensions are known (ServerHello in 1.2, EncryptedExtensions in 1.3):
    /// RFC 8449 §4, the server's record_size_limit bounds every protected record we send from now on.</summary>
    protected override void ApplyMaxFragmentLengthExtension(short maxFragmentLength)
    {
        base.ApplyMaxFragmentLengthExtension(maxFragmentLength);
        var limit = _encryptedRecordSizeLimit is { } data
            ? TlsExtensionsUtilities.ReadRecordSizeLimitExtension(data)
            : TlsExtensionsUtilities.GetRecordSizeLimitExtension(m_serverExtensions);
        if (limit >= 0)
        {
            context.SendPlaintextLimit = RecordSizeLimit.SendLimit(limit, TlsUtilities.IsTlsV13(Context));
        }
    }

    private byte[]? _encryptedRecordSizeLimit;

    /// <summary>See <see cref="EncryptedExtensionsFilter"/>: BouncyCastle would refuse record_size_limit here.</summary>
    protected override void Receive13EncryptedExtensions(MemoryStream buf)
    {
        var body = new byte[buf.Length - buf.Position];
        buf.ReadExactly(body);
        (body, _encryptedRecordSizeLimit) = EncryptedExtensionsFilter.TakeRecordSizeLimit(body);
        base.Receive13EncryptedExtensions(new MemoryStream(body, writable: false));
    }

    public bool PeerClosed { get; private set; }

    protected override void HandleAlertWarningMessage(short alertDescription)
    {
        if (alertDescription == AlertDescription.close_notify && IsConnected)
        {
            PeerClosed = true;
            return;
        }

        base.HandleAlertWarningMessage(alertDescription);
    }

    public void CloseWrite() => CloseWriteSide(ref _writeClosed, PeerClosed, Close, RaiseAlertWarning);

    public void RequestKeyUpdate() => Send13KeyUpdate(true);

    internal static void CloseWriteSide(ref bool writeClosed, bool peerClosed, Action close, Action<short, string> warn)
    {
        if (writeClosed)
        {
            return;
        }

        writeClosed = true;
        if (peerClosed)
        {
            close();
        }
        else
        {
            warn(AlertDescription.close_notify, "write side closed");
        }
    }
}

/// <inheritdoc cref="EngineClientProtocol"/>
internal sealed class EngineServerProtocol(EngineContext context) : TlsServerProtocol, IEngineProtocol
{
    private bool _writeClosed;

    public IBufferWriter<byte>? DirectOutput { get; set; }

    private RecordWriter? _writeRecord;

    protected override void WriteRecord(short type, ReadOnlySpan<byte> buffer) =>
        DirectRecordTarget.Write(this, type, buffer, DirectOutput, m_outputBuffer.Buffer, _writeRecord ??= base.WriteRecord);

    /// <summary>RFC 8449 in TLS 1.3: a client limit under 2^14 + 1 binds our encrypted handshake messages too,
    /// which only BouncyCastle's own fragmenting can honour (see <see cref="RecordSizeLimit"/>).</summary>
    protected override void ApplyMaxFragmentLengthExtension(short maxFragmentLength) =>
        base.ApplyMaxFragmentLengthExtension(maxFragmentLength >= 0 ? maxFragmentLength : context.FragmentCode);

    public bool PeerClosed { get; private set; }

    protected override void HandleAlertWarningMessage(short alertDescription)
    {
        if (alertDescription == AlertDescription.close_notify && IsConnected)
        {
            PeerClosed = true;
            return;
        }

        base.HandleAlertWarningMessage(alertDescription);
    }

    public void CloseWrite() =>
        EngineClientProtocol.CloseWriteSide(ref _writeClosed, PeerClosed, Close, RaiseAlertWarning);

    public void RequestKeyUpdate() => Send13KeyUpdate(true);
}
