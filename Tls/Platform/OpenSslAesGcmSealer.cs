using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Apps.Tls.Platform;

/// <summary>
/// AES-GCM sealing by the system's OpenSSL (libcrypto.so.3) through its streaming EVP interface, for a plaintext that
/// lies in two pieces: a TLS 1.3 record's content, where the application wrote it, and its content type byte
/// (RFC 8446 §5.2, TLSInnerPlaintext). .NET's <see cref="AesGcm"/> takes one contiguous plaintext, so the content had to
/// be copied next to its type first: a copy of every byte sent. One instance per key; one operation at a time.
/// </summary>
/// <remarks>
/// The key is handed to OpenSSL once, in the constructor; EVP_CIPHER_CTX_free wipes it. <see cref="IsAvailable"/> is
/// false when libcrypto cannot be loaded or disagrees with .NET's AES-GCM on a known input, and callers then copy.
/// </remarks>
internal sealed class OpenSslAesGcmSealer : IDisposable
{
    public const int NonceSize = 12;
    public const int TagSize = 16;

    // EVP_CTRL_AEAD_GET_TAG (evp.h), the same as EVP_CTRL_GCM_GET_TAG.
    private const int GetTagControl = 0x10;
    private const string Library = "libcrypto.so.3";

    private static readonly Lazy<bool> Available = new(AgreesWithDotNet);

    private readonly CipherContext _context;

    /// <summary>True when libcrypto is loaded and seals a known input as .NET's AesGcm does.</summary>
    public static bool IsAvailable => Available.Value;

    /// <param name="key">16 or 32 bytes (AES-128-GCM or AES-256-GCM).</param>
    public OpenSslAesGcmSealer(ReadOnlySpan<byte> key)
    {
        var cipher = key.Length switch
        {
            16 => Aes128Gcm(),
            32 => Aes256Gcm(),
            _ => throw new ArgumentException("AES-GCM keys here are 16 or 32 bytes", nameof(key)),
        };
        _context = NewContext();
        if (_context.IsInvalid)
        {
            _context.Dispose();
            throw Failure("EVP_CIPHER_CTX_new");
        }

        if (EncryptInit(_context, cipher, 0, ref MemoryMarshal.GetReference(key), ref Unsafe.NullRef<byte>()) != 1)
        {
            _context.Dispose();
            throw Failure("EVP_EncryptInit_ex");
        }
    }

    /// <summary>
    /// Seals <paramref name="content"/> followed by <paramref name="trailer"/> into <paramref name="ciphertext"/>
    /// (exactly as long as both) and writes the tag. <paramref name="ciphertext"/> must not overlap
    /// <paramref name="content"/>.
    /// </summary>
    public void Seal(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> additionalData, ReadOnlySpan<byte> content, ReadOnlySpan<byte> trailer,
        Span<byte> ciphertext, Span<byte> tag)
    {
        if (nonce.Length != NonceSize || tag.Length != TagSize || ciphertext.Length != content.Length + trailer.Length)
        {
            throw new ArgumentException("AES-GCM takes a 12-byte nonce, gives a 16-byte tag, and the ciphertext is as long as the plaintext");
        }

        if (content.Overlaps(ciphertext) || trailer.Overlaps(ciphertext))
        {
            throw new ArgumentException("the ciphertext must not overlap the plaintext", nameof(ciphertext));
        }

        // A new nonce on the key already set (EVP_EncryptInit_ex(3): NULL cipher and key keep the current ones).
        if (EncryptInit(_context, 0, 0, ref Unsafe.NullRef<byte>(), ref MemoryMarshal.GetReference(nonce)) != 1)
        {
            throw Failure("EVP_EncryptInit_ex");
        }

        if (!additionalData.IsEmpty)
        {
            Update(ref Unsafe.NullRef<byte>(), additionalData, "the additional data");
        }

        Update(ref MemoryMarshal.GetReference(ciphertext), content, "the content");
        Update(ref MemoryMarshal.GetReference(ciphertext[content.Length..]), trailer, "the trailer");
        var written = 0;
        if (EncryptFinal(_context, ref MemoryMarshal.GetReference(ciphertext[ciphertext.Length..]), ref written) != 1 || written != 0)
        {
            throw Failure("EVP_EncryptFinal_ex");
        }

        if (Control(_context, GetTagControl, TagSize, ref MemoryMarshal.GetReference(tag)) != 1)
        {
            throw Failure("EVP_CIPHER_CTX_ctrl(EVP_CTRL_AEAD_GET_TAG)");
        }
    }

    public void Dispose() => _context.Dispose();

    /// <summary>Feeds additional data (no output) or plaintext; GCM is a stream mode, so OpenSSL writes every
    /// plaintext byte at once.</summary>
    private void Update(ref byte output, ReadOnlySpan<byte> input, string what)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var written = 0;
        if (EncryptUpdate(_context, ref output, ref written, ref MemoryMarshal.GetReference(input), input.Length) != 1
            || (!Unsafe.IsNullRef(ref output) && written != input.Length))
        {
            throw Failure($"EVP_EncryptUpdate on {what}");
        }
    }

    private static CryptographicException Failure(string call)
    {
        ClearErrors();
        return new CryptographicException($"libcrypto's {call} failed");
    }

    private static bool AgreesWithDotNet()
    {
        try
        {
            ReadOnlySpan<byte> key = "0123456789abcdef0123456789abcdef"u8;
            ReadOnlySpan<byte> nonce = "twelve bytes"u8;
            ReadOnlySpan<byte> aad = [0x17, 0x03, 0x03, 0x00, 0x32];
            ReadOnlySpan<byte> content = "a record's content, in two pieces"u8;
            Span<byte> plaintext = stackalloc byte[content.Length + 1];
            content.CopyTo(plaintext);
            plaintext[^1] = 0x17;
            Span<byte> expected = stackalloc byte[plaintext.Length + TagSize];
            using (var reference = new AesGcm(key, TagSize))
            {
                reference.Encrypt(nonce, plaintext, expected[..plaintext.Length], expected[plaintext.Length..], aad);
            }

            Span<byte> sealedRecord = stackalloc byte[plaintext.Length + TagSize];
            using var sealer = new OpenSslAesGcmSealer(key);
            sealer.Seal(nonce, aad, content, plaintext[^1..], sealedRecord[..plaintext.Length], sealedRecord[plaintext.Length..]);
            return sealedRecord.SequenceEqual(expected);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or CryptographicException)
        {
            return false;
        }
    }

    // libcrypto 3.x (EVP_EncryptInit(3)); every function exists since OpenSSL 1.1.0.
    [DllImport(Library, EntryPoint = "EVP_aes_128_gcm")]
    private static extern nint Aes128Gcm();

    [DllImport(Library, EntryPoint = "EVP_aes_256_gcm")]
    private static extern nint Aes256Gcm();

    [DllImport(Library, EntryPoint = "EVP_CIPHER_CTX_new")]
    private static extern CipherContext NewContext();

    [DllImport(Library, EntryPoint = "EVP_CIPHER_CTX_free")]
    private static extern void FreeContext(nint context);

    [DllImport(Library, EntryPoint = "EVP_EncryptInit_ex")]
    private static extern int EncryptInit(CipherContext context, nint cipher, nint engine, ref byte key, ref byte iv);

    [DllImport(Library, EntryPoint = "EVP_EncryptUpdate")]
    private static extern int EncryptUpdate(CipherContext context, ref byte output, ref int written, ref byte input, int length);

    [DllImport(Library, EntryPoint = "EVP_EncryptFinal_ex")]
    private static extern int EncryptFinal(CipherContext context, ref byte output, ref int written);

    [DllImport(Library, EntryPoint = "EVP_CIPHER_CTX_ctrl")]
    private static extern int Control(CipherContext context, int type, int argument, ref byte pointer);

    [DllImport(Library, EntryPoint = "ERR_clear_error")]
    private static extern void ClearErrors();

    /// <summary>An OpenSSL EVP_CIPHER_CTX holding the key; freed (and wiped by OpenSSL) on dispose or finalization.</summary>
    private sealed class CipherContext() : SafeHandle(0, ownsHandle: true)
    {
        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            FreeContext(handle);
            return true;
        }
    }
}
