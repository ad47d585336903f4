namespace Apps.Tls.Engine;

/// <summary>
/// The record_size_limit extension (RFC 8449). BouncyCastle 2.7.0 can encode and parse it but does not act
/// on it, so we do: both sides advertise the protocol maximum, the engine cuts application data to the
/// peer's limit, and a TLS 1.3 server facing a smaller client limit shrinks its records with BouncyCastle's
/// max_fragment_length machinery (powers of two, 512 to 4096 bytes, both directions) and advertises that.
/// </summary>
internal static class RecordSizeLimit
{
    /// <summary>RFC 8449 §4: "Endpoints MUST NOT send a record_size_limit extension with a value smaller than 64."</summary>
    public const int Minimum = 64;

    /// <summary>RFC 8446 §5.1 / RFC 5246 §6.2.1: 2^14 bytes of plaintext per record.</summary>
    public const int MaxPlaintext = 1 << 14;

    /// <summary>RFC 8449 §4: in TLS 1.3 the limit counts the content type byte (and padding), so full size is 2^14 + 1.</summary>
    public static int Advertised(bool tls13) => tls13 ? MaxPlaintext + 1 : MaxPlaintext;

    /// <summary>Most application bytes per record we may send to a peer that advertised <paramref name="peerLimit"/>.</summary>
    public static int SendLimit(int peerLimit, bool tls13) => Math.Min(tls13 ? peerLimit - 1 : peerLimit, MaxPlaintext);

    /// <summary>The largest max_fragment_length code (RFC 6066 §4: 2^(8+code) bytes, codes 1 to 4) not above
    /// <paramref name="sendLimit"/>, or -1 when even 512 bytes is too many.</summary>
    public static short FragmentCode(int sendLimit)
    {
        for (short code = 4; code >= 1; code--)
        {
            if (1 << (8 + code) <= sendLimit)
            {
                return code;
            }
        }

        return -1;
    }
}
