using System.Runtime.InteropServices;

namespace Apps.Tls.Platform;

/// <summary>
/// An ECDSA private key on P-256 or P-384 held by the system's OpenSSL, for the last step of a signature only:
/// s = k⁻¹·(e + r·d) mod n (FIPS 186-5 §6.4.1), by <c>ECDSA_do_sign_ex(3)</c> given k⁻¹ and r. Read this first: the
/// caller brings k⁻¹ and r (from its RFC 6979 nonce), so OpenSSL draws no nonce; it only computes, in constant time
/// (Montgomery arithmetic on fixed-width numbers), what BouncyCastle's BigInteger would compute in variable time.
/// Built once per server key; the key lives in OpenSSL's memory until the handle is released, which clears it.
/// </summary>
internal sealed class OpenSslEcdsaKey : SafeHandle
{
    private const string Library = LibCrypto.Name;

    private OpenSslEcdsaKey(OpenSslCurve curve) : base(0, ownsHandle: true) => Curve = curve;

    /// <summary>The key's curve.</summary>
    public OpenSslCurve Curve { get; }

    public override bool IsInvalid => handle == 0;

    /// <summary>
    /// The key d (big-endian, 1 ≤ d &lt; n, <see cref="OpenSslCurve.Size"/> bytes) on <paramref name="curve"/>, or null when
    /// OpenSSL refuses it.
    /// </summary>
    public static OpenSslEcdsaKey? TryCreate(OpenSslCurve curve, ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.Length != curve.Size)
        {
            throw new ArgumentException($"a private key on this curve is {curve.Size} bytes", nameof(privateKey));
        }

        var key = new OpenSslEcdsaKey(curve);
        nint d = 0;
        try
        {
            key.SetHandle(NewKey(curve.Nid));
            d = LibCrypto.BigNumber(privateKey);
            if (key.IsInvalid || d == 0 || SetPrivateKey(key.handle, d) != 1)
            {
                LibCrypto.ClearErrors();
                key.Dispose();
                return null;
            }

            return key;
        }
        finally
        {
            LibCrypto.ClearFreeBigNumber(d);
        }
    }

    /// <summary>
    /// s for the message digest <paramref name="digest"/> (OpenSSL truncates it to n's length as FIPS 186-5 does), with
    /// <paramref name="kInverse"/> = k⁻¹ mod n and <paramref name="r"/> = (k·G).x mod n, both big-endian and at most
    /// <see cref="OpenSslCurve.Size"/> bytes. False when OpenSSL fails or s would be 0 (the caller takes the next k).
    /// </summary>
    public bool TrySign(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> kInverse, ReadOnlySpan<byte> r, Span<byte> s)
    {
        var size = Curve.Size;
        if (kInverse.Length is 0 || kInverse.Length > size || r.Length is 0 || r.Length > size || s.Length != size || digest.IsEmpty)
        {
            throw new ArgumentException($"k⁻¹ and r are 1 to {size} bytes, s is {size} bytes, and the digest is not empty");
        }

        nint kinv = 0, rp = 0, signature = 0;
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            kinv = LibCrypto.BigNumber(kInverse);
            rp = LibCrypto.BigNumber(r);
            if (kinv == 0 || rp == 0)
            {
                return LibCrypto.Refused();
            }

            signature = Sign(ref MemoryMarshal.GetReference(digest), digest.Length, kinv, rp, handle);
            if (signature == 0)
            {
                return LibCrypto.Refused();
            }

            GetComponents(signature, out _, out var sp);
            if (sp == 0 || BigNumberToBytes(sp, ref MemoryMarshal.GetReference(s), s.Length) != s.Length)
            {
                s.Clear();
                return LibCrypto.Refused();
            }

            return true;
        }
        finally
        {
            FreeSignature(signature);
            LibCrypto.ClearFreeBigNumber(rp);
            LibCrypto.ClearFreeBigNumber(kinv);
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    protected override bool ReleaseHandle()
    {
        FreeKey(handle); // EC_KEY_free clears the private key before freeing it
        return true;
    }

    [DllImport(Library, EntryPoint = "EC_KEY_new_by_curve_name")]
    private static extern nint NewKey(int nid);

    [DllImport(Library, EntryPoint = "EC_KEY_set_private_key")]
    private static extern int SetPrivateKey(nint key, nint privateKey);

    [DllImport(Library, EntryPoint = "EC_KEY_free")]
    private static extern void FreeKey(nint key);

    [DllImport(Library, EntryPoint = "ECDSA_do_sign_ex")]
    private static extern nint Sign(ref byte digest, int digestLength, nint kInverse, nint r, nint key);

    [DllImport(Library, EntryPoint = "ECDSA_SIG_get0")]
    private static extern void GetComponents(nint signature, out nint r, out nint s);

    [DllImport(Library, EntryPoint = "ECDSA_SIG_free")]
    private static extern void FreeSignature(nint signature);

    [DllImport(Library, EntryPoint = "BN_bn2binpad")]
    private static extern int BigNumberToBytes(nint number, ref byte to, int length);
}
