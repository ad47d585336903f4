using System.Security.Cryptography;

namespace Apps.TrustStore.Certificates;

/// <summary>
/// The SHA-256 of a certificate's DER SubjectPublicKeyInfo: what a pin names. Pinning the key
/// rather than the certificate lets a server renew its certificate with the same key
/// (<see href="https://www.rfc-editor.org/rfc/rfc7469#section-2.4">RFC 7469 §2.4</see>).
/// Shown as OpenSSH does (<c>SHA256:</c> + unpadded base64) or as colon-separated hex.
/// </summary>
public readonly record struct SpkiFingerprint
{
    /// <summary>The length of a SHA-256 digest.</summary>
    public const int Length = 32;

    private const string Prefix = "SHA256:";
    private readonly byte[]? _digest;

    private SpkiFingerprint(byte[] digest) => _digest = digest;

    /// <summary>The 32 digest bytes.</summary>
    public ReadOnlySpan<byte> Digest => _digest ?? new byte[Length];

    /// <summary>Wraps a 32-byte SHA-256 digest.</summary>
    /// <exception cref="ArgumentException">The digest is not 32 bytes.</exception>
    public static SpkiFingerprint FromDigest(ReadOnlySpan<byte> digest)
    {
        if (digest.Length != Length)
            throw new ArgumentException($"a SHA-256 fingerprint is {Length} bytes, got {digest.Length}", nameof(digest));
        return new SpkiFingerprint(digest.ToArray());
    }

    /// <summary>Hashes a DER SubjectPublicKeyInfo.</summary>
    public static SpkiFingerprint OfSubjectPublicKeyInfo(ReadOnlySpan<byte> spkiDer) =>
        new(SHA256.HashData(spkiDer));

    /// <summary>
    /// Parses <c>SHA256:</c> + base64 (padded or not, as OpenSSH prints it) or 32 bytes of hex,
    /// with or without colons. Returns false with a reason for anything else.
    /// </summary>
    public static bool TryParse(string? text, out SpkiFingerprint fingerprint, out string error)
    {
        fingerprint = default;
        text = text?.Trim() ?? "";
        if (text.Length == 0 || text.Length > 200)
        {
            error = "a fingerprint is SHA256: followed by 43 base64 characters, or 32 bytes of hex";
            return false;
        }
        if (text.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            string b64 = text[Prefix.Length..].TrimEnd('=');
            if (b64.Length != 43)
            {
                error = $"'{text}' is not a SHA-256 fingerprint: expected 43 base64 characters after SHA256:, got {b64.Length}";
                return false;
            }
            var bytes = new byte[Length + 1];
            if (!Convert.TryFromBase64String(b64 + "=", bytes, out int written) || written != Length)
            {
                error = $"'{text}' is not a SHA-256 fingerprint: the part after SHA256: is not base64";
                return false;
            }
            fingerprint = new SpkiFingerprint(bytes[..Length]);
            error = "";
            return true;
        }
        string hex = text.Replace(":", "", StringComparison.Ordinal);
        if (hex.Length != Length * 2)
        {
            error = $"'{text}' is not a SHA-256 fingerprint: expected SHA256:<base64> or 64 hex digits";
            return false;
        }
        try
        {
            fingerprint = new SpkiFingerprint(Convert.FromHexString(hex));
            error = "";
            return true;
        }
        catch (FormatException)
        {
            error = $"'{text}' is not a SHA-256 fingerprint: it contains characters that are not hex";
            return false;
        }
    }

    /// <summary>Parses like <see cref="TryParse"/> and throws <see cref="FormatException"/> on failure.</summary>
    public static SpkiFingerprint Parse(string text) =>
        TryParse(text, out var fp, out var error) ? fp : throw new FormatException(error);

    /// <summary><c>SHA256:</c> + unpadded base64, as <c>ssh-keygen -l</c> prints.</summary>
    public override string ToString() => Prefix + Convert.ToBase64String(Digest).TrimEnd('=');

    /// <summary>Upper-case hex bytes separated by colons, as <c>openssl x509 -fingerprint</c> prints.</summary>
    public string ToHex()
    {
        ReadOnlySpan<byte> d = Digest;
        var chars = new char[d.Length * 3 - 1];
        const string digits = "0123456789ABCDEF";
        for (int i = 0; i < d.Length; i++)
        {
            if (i > 0) chars[i * 3 - 1] = ':';
            chars[i * 3] = digits[d[i] >> 4];
            chars[i * 3 + 1] = digits[d[i] & 0xF];
        }
        return new string(chars);
    }

    /// <summary>Either form, chosen by the caller.</summary>
    public string Format(bool hex) => hex ? ToHex() : ToString();

    /// <inheritdoc />
    public bool Equals(SpkiFingerprint other) => Digest.SequenceEqual(other.Digest);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Digest);
        return hash.ToHashCode();
    }
}
