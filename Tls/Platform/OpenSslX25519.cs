using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Apps.Tls.Platform;

/// <summary>
/// X25519 (RFC 7748 §5) computed by the system's OpenSSL (libcrypto.so.3), which .NET 10 does not expose. Read
/// this first: callers bring the private key (drawn from Fortuna); OpenSSL only computes, it draws no key material.
/// <see cref="IsAvailable"/> is false when libcrypto cannot be loaded or fails the RFC 7748 §6.1 known-answer test,
/// and callers then use BouncyCastle's own X25519.
/// </summary>
internal static class OpenSslX25519
{
    /// <summary>Private keys, public keys and shared secrets are all 32 bytes (RFC 7748 §6.1).</summary>
    public const int KeySize = 32;

    // OpenSSL's NID_X25519 (obj_mac.h), the key type EVP_PKEY_X25519.
    private const int EvpPkeyX25519 = 1034;
    private const string Library = LibCrypto.Name;

    private static readonly Lazy<bool> Available = new(PassesKnownAnswerTest);

    /// <summary>True when libcrypto is loaded and reproduces RFC 7748 §6.1.</summary>
    public static bool IsAvailable => Available.Value;

    /// <summary>
    /// Loads <paramref name="privateKey"/> into OpenSSL, which computes its public key X25519(k, 9) at once (clamping
    /// k as RFC 7748 §5 says). The handle serves both <see cref="GetPublicKey"/> and <see cref="TryAgree(EvpKey, ReadOnlySpan{byte}, Span{byte})"/>,
    /// so a key exchange costs two scalar multiplications, not three.
    /// </summary>
    public static EvpKey ImportPrivateKey(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != KeySize)
        {
            throw new ArgumentException($"X25519 private keys are {KeySize} bytes", nameof(privateKey));
        }

        var key = NewRawPrivateKey(EvpPkeyX25519, 0, ref MemoryMarshal.GetReference(privateKey), KeySize);
        if (key.IsInvalid)
        {
            key.Dispose();
            throw Failure("EVP_PKEY_new_raw_private_key");
        }

        return key;
    }

    /// <summary>The public key of <paramref name="key"/>.</summary>
    public static void GetPublicKey(EvpKey key, Span<byte> publicKey)
    {
        CheckSize(publicKey);
        nuint length = KeySize;
        if (GetRawPublicKey(key, ref MemoryMarshal.GetReference(publicKey), ref length) != 1 || length != KeySize)
        {
            throw Failure("EVP_PKEY_get_raw_public_key");
        }
    }

    /// <summary>The public key X25519(k, 9) for <paramref name="privateKey"/>.</summary>
    public static void DerivePublicKey(ReadOnlySpan<byte> privateKey, Span<byte> publicKey)
    {
        using var key = ImportPrivateKey(privateKey);
        GetPublicKey(key, publicKey);
    }

    /// <summary>X25519(k, u) for a private key given as bytes; see <see cref="TryAgree(EvpKey, ReadOnlySpan{byte}, Span{byte})"/>.</summary>
    public static bool TryAgree(ReadOnlySpan<byte> privateKey, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        using var key = ImportPrivateKey(privateKey);
        return TryAgree(key, peerPublicKey, sharedSecret);
    }

    /// <summary>
    /// The shared secret X25519(k, u). Returns false when it is all zeros, which a low-order <paramref name="peerPublicKey"/>
    /// produces (RFC 7748 §6.1, RFC 8446 §7.4.2: the handshake must then fail); OpenSSL refuses to derive it.
    /// </summary>
    public static bool TryAgree(EvpKey key, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        CheckSize(peerPublicKey);
        CheckSize(sharedSecret);
        nint peer = 0, context = 0;
        try
        {
            peer = NewRawPublicKey(EvpPkeyX25519, 0, ref MemoryMarshal.GetReference(peerPublicKey), KeySize);
            context = peer == 0 ? 0 : NewContext(key, 0);
            if (context == 0 || DeriveInit(context) != 1 || DeriveSetPeer(context, peer) != 1)
            {
                throw Failure("EVP_PKEY_derive_init");
            }

            nuint length = KeySize;
            if (Derive(context, ref MemoryMarshal.GetReference(sharedSecret), ref length) != 1 || length != KeySize)
            {
                // OpenSSL's X25519 derivation fails exactly when the result is all zeros (a low-order point).
                LibCrypto.ClearErrors();
                sharedSecret.Clear();
                return false;
            }

            // Checked again here in constant time, whatever the library version does.
            var any = 0;
            foreach (var b in sharedSecret)
            {
                any |= b;
            }

            return any != 0;
        }
        finally
        {
            FreeContext(context);
            FreeKey(peer);
        }
    }

    private static void CheckSize(ReadOnlySpan<byte> value)
    {
        if (value.Length != KeySize)
        {
            throw new ArgumentException($"X25519 keys and secrets are {KeySize} bytes");
        }
    }

    private static CryptographicException Failure(string call) => LibCrypto.Failure(call, " for X25519");

    private static bool PassesKnownAnswerTest()
    {
        try
        {
            // RFC 7748 §6.1: Alice's key pair and the secret she shares with Bob.
            var alice = Convert.FromHexString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
            var alicePublic = Convert.FromHexString("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
            var bobPublic = Convert.FromHexString("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
            var shared = Convert.FromHexString("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
            Span<byte> output = stackalloc byte[KeySize];
            DerivePublicKey(alice, output);
            if (!output.SequenceEqual(alicePublic))
            {
                return false;
            }

            return TryAgree(alice, bobPublic, output) && output.SequenceEqual(shared);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or CryptographicException)
        {
            return false;
        }
    }

    // libcrypto 3.x (EVP_PKEY(3), EVP_PKEY_derive(3)); every function exists since OpenSSL 1.1.1.
    [DllImport(Library, EntryPoint = "EVP_PKEY_new_raw_private_key")]
    private static extern EvpKey NewRawPrivateKey(int type, nint engine, ref byte key, nuint length);

    [DllImport(Library, EntryPoint = "EVP_PKEY_new_raw_public_key")]
    private static extern nint NewRawPublicKey(int type, nint engine, ref byte key, nuint length);

    [DllImport(Library, EntryPoint = "EVP_PKEY_get_raw_public_key")]
    private static extern int GetRawPublicKey(EvpKey key, ref byte publicKey, ref nuint length);

    [DllImport(Library, EntryPoint = "EVP_PKEY_free")]
    private static extern void FreeKey(nint key);

    [DllImport(Library, EntryPoint = "EVP_PKEY_CTX_new")]
    private static extern nint NewContext(EvpKey key, nint engine);

    [DllImport(Library, EntryPoint = "EVP_PKEY_CTX_free")]
    private static extern void FreeContext(nint context);

    [DllImport(Library, EntryPoint = "EVP_PKEY_derive_init")]
    private static extern int DeriveInit(nint context);

    [DllImport(Library, EntryPoint = "EVP_PKEY_derive_set_peer")]
    private static extern int DeriveSetPeer(nint context, nint peer);

    [DllImport(Library, EntryPoint = "EVP_PKEY_derive")]
    private static extern int Derive(nint context, ref byte secret, ref nuint length);


    /// <summary>An OpenSSL EVP_PKEY holding an X25519 private key; freed (and wiped by OpenSSL) on dispose or finalization.</summary>
    internal sealed class EvpKey() : SafeHandle(0, ownsHandle: true)
    {
        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            FreeKey(handle);
            return true;
        }
    }
}
