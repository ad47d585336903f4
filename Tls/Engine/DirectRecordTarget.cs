// Read this first: how an application-data record skips BouncyCastle's output queue. BouncyCastle's record layer
// (RecordStream.WriteRecord) numbers the record, asks the cipher to seal it, writes the header and copies the whole
// record into its ByteQueue, which the engine then copies out again. For application data the engine instead names
// the caller's writer here; the protocol subclass first moves anything already queued there (order on the wire is
// kept), and PlatformAeadRecordCipher seals the record straight into the writer and hands BouncyCastle a bare 5-byte
// header of an empty record, which the protocol subclass takes back off the queue. The sequence number, the key
// schedule (KeyUpdate, RFC 8446 §4.6.3), the limits and failure handling all stay BouncyCastle's.
using System.Buffers;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>
/// The writer the application-data record being written should be sealed into, for the cipher to pick up. It is set
/// and cleared around one BouncyCastle <c>WriteRecord</c> call on the same thread (the call is synchronous), hence
/// thread-static: the cipher is made by BouncyCastle and cannot be handed the writer any other way.
/// </summary>
/// <summary>BouncyCastle's own <c>TlsProtocol.WriteRecord</c>, as the protocol subclasses hand it over.</summary>
internal delegate void RecordWriter(short contentType, ReadOnlySpan<byte> buffer);

internal static class DirectRecordTarget
{
    /// <summary>The record header BouncyCastle reserves ahead of every record (RFC 8446 §5.1, RFC 5246 §6.2.1).</summary>
    public const int HeaderLength = 5;

    [ThreadStatic]
    private static IBufferWriter<byte>? t_writer;

    [ThreadStatic]
    private static bool t_sealed;

    /// <summary>
    /// Writes one record through BouncyCastle's <paramref name="writeRecord"/>; an application-data record goes
    /// straight into <paramref name="output"/> when one is set (after what <paramref name="queue"/> already holds).
    /// </summary>
    public static void Write(TlsProtocol protocol, short contentType, ReadOnlySpan<byte> buffer, IBufferWriter<byte>? output,
        ByteQueue queue, RecordWriter writeRecord)
    {
        if (!Begin(protocol, contentType, output))
        {
            writeRecord(contentType, buffer);
            return;
        }

        try
        {
            writeRecord(contentType, buffer);
        }
        finally
        {
            End(queue);
        }
    }

    /// <summary>Before an application-data record: moves what BouncyCastle already queued to
    /// <paramref name="output"/> and offers the writer to the cipher.</summary>
    /// <returns>False when there is nothing to do directly (no writer, or not application data).</returns>
    private static bool Begin(TlsProtocol protocol, short contentType, IBufferWriter<byte>? output)
    {
        if (output is null || contentType != ContentType.application_data)
        {
            return false;
        }

        TlsEngine.DrainOutput(protocol, output);
        t_writer = output;
        t_sealed = false;
        return true;
    }

    /// <summary>Called by the cipher for an application-data record: the writer to seal into, taken once.</summary>
    public static IBufferWriter<byte>? Take()
    {
        var writer = t_writer;
        t_writer = null;
        return writer;
    }

    /// <summary>Called by the cipher once the record is in the writer and BouncyCastle gets the bare header.</summary>
    public static void Sealed() => t_sealed = true;

    /// <summary>After the record: drops the bare header BouncyCastle queued in its place (the
    /// queue was empty before, so it is the first <see cref="HeaderLength"/> bytes).</summary>
    private static void End(ByteQueue queue)
    {
        t_writer = null;
        if (t_sealed)
        {
            t_sealed = false;
            queue.RemoveData(HeaderLength);
        }
    }
}
