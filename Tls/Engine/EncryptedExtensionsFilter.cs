using System.Buffers.Binary;

namespace Apps.Tls.Engine;

/// <summary>
/// BouncyCastle 2.7.0 refuses record_size_limit in a TLS 1.3 EncryptedExtensions with illegal_parameter
/// ("Invalid extension": <c>TlsUtilities.IsPermittedExtensionType13</c> has no case for type 28), although
/// RFC 8446 §4.2 and RFC 8449 §4 put it exactly there. The client takes it out of the message body before
/// BouncyCastle parses it (the transcript was already hashed from the original bytes) and acts on it itself.
/// </summary>
internal static class EncryptedExtensionsFilter
{
    /// <summary>
    /// Splits <paramref name="body"/> (RFC 8446 §4.3.1: <c>Extension extensions&lt;0..2^16-1&gt;</c>) into the
    /// body without record_size_limit and that extension's data. Anything unexpected (malformed, repeated)
    /// returns the body untouched, so that BouncyCastle's own checks send the right alert.
    /// </summary>
    public static (byte[] Body, byte[]? RecordSizeLimit) TakeRecordSizeLimit(byte[] body)
    {
        var span = body.AsSpan();
        if (span.Length < 2 || BinaryPrimitives.ReadUInt16BigEndian(span) != span.Length - 2)
        {
            return (body, null);
        }

        var rest = span[2..];
        var kept = new List<byte>(body.Length);
        byte[]? limit = null;
        while (rest.Length > 0)
        {
            if (rest.Length < 4)
            {
                return (body, null);
            }

            var type = BinaryPrimitives.ReadUInt16BigEndian(rest);
            var length = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
            if (rest.Length < 4 + length)
            {
                return (body, null);
            }

            var whole = rest[..(4 + length)];
            if (type == Org.BouncyCastle.Tls.ExtensionType.record_size_limit)
            {
                if (limit is not null)
                {
                    return (body, null);
                }

                limit = whole[4..].ToArray();
            }
            else
            {
                kept.AddRange(whole);
            }

            rest = rest[(4 + length)..];
        }

        if (limit is null)
        {
            return (body, null);
        }

        var result = new byte[2 + kept.Count];
        BinaryPrimitives.WriteUInt16BigEndian(result, (ushort)kept.Count);
        kept.CopyTo(result, 2);
        return (result, limit);
    }
}
