using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Apps.Tls.Platform;

/// <summary>What every direct call into the system's OpenSSL shares: the library's name and its error queue.</summary>
internal static class LibCrypto
{
    /// <summary>OpenSSL 3's libcrypto; the functions used exist since 1.1, but 3 is what Debian 12 ships.</summary>
    public const string Name = "libcrypto.so.3";

    /// <summary>Clears OpenSSL's per-thread error queue (a failed call leaves its reasons there) and describes the
    /// failure of <paramref name="call"/>, optionally saying what for (" for X25519").</summary>
    public static CryptographicException Failure(string call, string purpose = "")
    {
        ClearErrors();
        return new CryptographicException($"libcrypto's {call} failed{purpose}");
    }

    /// <summary>Clears OpenSSL's error queue after a refused call, and says false.</summary>
    public static bool Refused()
    {
        ClearErrors();
        return false;
    }

    /// <summary>A new BIGNUM holding the big-endian <paramref name="bytes"/> (BN_bin2bn(3)), or 0 when OpenSSL has no
    /// memory; free it with <see cref="ClearFreeBigNumber"/>.</summary>
    public static nint BigNumber(ReadOnlySpan<byte> bytes) => BigNumberFromBytes(ref MemoryMarshal.GetReference(bytes), bytes.Length, 0);

    /// <summary>ERR_clear_error(3).</summary>
    [DllImport(Name, EntryPoint = "ERR_clear_error")]
    public static extern void ClearErrors();

    /// <summary>BN_clear_free(3): wipes and frees a BIGNUM (0 is ignored).</summary>
    [DllImport(Name, EntryPoint = "BN_clear_free")]
    public static extern void ClearFreeBigNumber(nint number);

    [DllImport(Name, EntryPoint = "BN_bin2bn")]
    private static extern nint BigNumberFromBytes(ref byte bytes, int length, nint reuse);
}
