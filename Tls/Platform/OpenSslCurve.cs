using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.Nist;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Apps.Tls.Platform;

/// <summary>
/// Scalar multiplication on P-256 or P-384 by the system's OpenSSL (libcrypto.so.3, <c>EC_POINT_mul(3)</c>). Read this
/// first: callers bring every scalar (drawn from Fortuna, or an RFC 6979 nonce); OpenSSL only computes. Used instead
/// of .NET's <see cref="ECDiffieHellman"/>, whose key import and export cost 7 to 20 times the multiplication itself
/// (measured on OpenSSL 3.0: 74 µs to import a P-256 private key, 227 µs for an agreement with an imported peer key,
/// 11 µs for k·G here). A curve is null when libcrypto cannot be loaded or disagrees with BouncyCastle on a known
/// multiple, and callers then use BouncyCastle. OpenSSL's multiplication is constant-time for secret scalars (its
/// P-256 code, or the Montgomery ladder with its own coordinate blinding for P-384).
/// </summary>
internal sealed class OpenSslCurve
{
    private const string Library = LibCrypto.Name;
    private const int Uncompressed = 4; // POINT_CONVERSION_UNCOMPRESSED

    private static readonly Lazy<OpenSslCurve?> P256Curve = new(() => TryLoad(415, "P-256")); // NID_X9_62_prime256v1
    private static readonly Lazy<OpenSslCurve?> P384Curve = new(() => TryLoad(715, "P-384")); // NID_secp384r1

    // EC_GROUPs are read-only once built and live as long as the process.
    private readonly nint _group;

    private OpenSslCurve(nint group, int size, int nid)
    {
        _group = group;
        Size = size;
        Nid = nid;
    }

    /// <summary>OpenSSL's number for the curve (NID_X9_62_prime256v1 or NID_secp384r1).</summary>
    public int Nid { get; }

    /// <summary>P-256 (secp256r1), or null without a working libcrypto.</summary>
    public static OpenSslCurve? P256 => P256Curve.Value;

    /// <summary>P-384 (secp384r1), or null without a working libcrypto.</summary>
    public static OpenSslCurve? P384 => P384Curve.Value;

    /// <summary>Bytes in a field element and in a scalar.</summary>
    public int Size { get; }

    /// <summary>Bytes in an uncompressed point (SEC 1 §2.3.3): 0x04, X, Y.</summary>
    public int PointSize => 1 + 2 * Size;

    /// <summary>k·G as an uncompressed point; <paramref name="scalar"/> is big-endian, 1 ≤ k &lt; n (the caller checks).</summary>
    public void MultiplyGenerator(ReadOnlySpan<byte> scalar, Span<byte> point)
    {
        if (!TryMultiply(scalar, default, point))
        {
            throw new CryptographicException("libcrypto's EC_POINT_mul failed for a base point multiple");
        }
    }

    /// <summary>
    /// The x-coordinate of k·P (the ECDH shared secret, RFC 8446 §7.4.2) into <paramref name="x"/>. False when OpenSSL
    /// refuses <paramref name="peerPoint"/> (not on the curve) or the product is the point at infinity.
    /// </summary>
    public bool TryAgree(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> peerPoint, Span<byte> x)
    {
        Span<byte> product = stackalloc byte[PointSize];
        try
        {
            if (peerPoint.Length != PointSize || !TryMultiply(scalar, peerPoint, product))
            {
                return false;
            }

            product.Slice(1, Size).CopyTo(x);
            return true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(product);
        }
    }

    /// <summary>
    /// The x-coordinate of u1·G + u2·Q (ECDSA verification, FIPS 186-5 §6.4.2; the scalars and Q are public, so no
    /// constant-time multiplication is needed). False when OpenSSL refuses <paramref name="point"/> or the sum is the
    /// point at infinity.
    /// </summary>
    public bool TryLinearCombination(ReadOnlySpan<byte> u1, ReadOnlySpan<byte> u2, ReadOnlySpan<byte> point, Span<byte> x)
    {
        if (u1.Length != Size || u2.Length != Size || point.Length != PointSize || x.Length != Size)
        {
            return false;
        }

        Span<byte> sum = stackalloc byte[PointSize];
        nint a = 0, b = 0, q = 0, result = 0;
        try
        {
            a = LibCrypto.BigNumber(u1);
            b = LibCrypto.BigNumber(u2);
            q = NewPoint(_group);
            result = NewPoint(_group);
            if (a == 0 || b == 0 || q == 0 || result == 0
                || PointFromBytes(_group, q, ref MemoryMarshal.GetReference(point), (nuint)point.Length, 0) != 1
                || Multiply(_group, result, a, q, b, 0) != 1)
            {
                return LibCrypto.Refused();
            }

            if (IsAtInfinity(_group, result) != 0
                || PointToBytes(_group, result, Uncompressed, ref MemoryMarshal.GetReference(sum), (nuint)sum.Length, 0) != (nuint)PointSize)
            {
                return LibCrypto.Refused();
            }

            sum.Slice(1, Size).CopyTo(x);
            return true;
        }
        finally
        {
            FreePoint(result);
            FreePoint(q);
            LibCrypto.ClearFreeBigNumber(b);
            LibCrypto.ClearFreeBigNumber(a);
        }
    }

    /// <summary>k·P, or k·G when <paramref name="peerPoint"/> is empty, written uncompressed into <paramref name="output"/>.</summary>
    private bool TryMultiply(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> peerPoint, Span<byte> output)
    {
        if (scalar.Length != Size || output.Length != PointSize)
        {
            throw new ArgumentException($"scalars are {Size} bytes and points {PointSize} bytes on this curve");
        }

        nint k = 0, peer = 0, result = 0;
        try
        {
            k = LibCrypto.BigNumber(scalar);
            result = NewPoint(_group);
            if (k == 0 || result == 0)
            {
                return LibCrypto.Refused();
            }

            if (peerPoint.IsEmpty)
            {
                if (Multiply(_group, result, k, 0, 0, 0) != 1)
                {
                    return LibCrypto.Refused();
                }
            }
            else
            {
                // EC_POINT_oct2point(3) refuses a point that is not on the curve.
                peer = NewPoint(_group);
                if (peer == 0 || PointFromBytes(_group, peer, ref MemoryMarshal.GetReference(peerPoint), (nuint)peerPoint.Length, 0) != 1
                    || Multiply(_group, result, 0, peer, k, 0) != 1)
                {
                    return LibCrypto.Refused();
                }
            }

            if (IsAtInfinity(_group, result) != 0)
            {
                return false;
            }

            var written = PointToBytes(_group, result, Uncompressed, ref MemoryMarshal.GetReference(output), (nuint)output.Length, 0);
            return written == (nuint)PointSize || LibCrypto.Refused();
        }
        finally
        {
            FreePoint(result);
            FreePoint(peer);
            LibCrypto.ClearFreeBigNumber(k);
        }
    }

    private static OpenSslCurve? TryLoad(int nid, string name)
    {
        try
        {
            var group = NewGroup(nid);
            if (group == 0)
            {
                LibCrypto.ClearErrors();
                return null;
            }

            var domain = NistNamedCurves.GetByName(name);
            var curve = new OpenSslCurve(group, (domain.Curve.FieldSize + 7) / 8, nid);

            // Known answer: a fixed multiple of G, and of 3G, as BouncyCastle computes them.
            var k = new BcBigInteger("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296", 16).Mod(domain.N);
            var scalar = k.ToByteArrayUnsigned();
            var padded = new byte[curve.Size];
            scalar.CopyTo(padded, curve.Size - scalar.Length);
            var kg = new byte[curve.PointSize];
            curve.MultiplyGenerator(padded, kg);
            var x = new byte[curve.Size];
            var threeG = domain.G.Multiply(BcBigInteger.Three).GetEncoded(false);
            return kg.AsSpan().SequenceEqual(domain.G.Multiply(k).GetEncoded(false))
                && curve.TryAgree(padded, threeG, x)
                && x.AsSpan().SequenceEqual(domain.G.Multiply(k.Multiply(BcBigInteger.Three)).Normalize().AffineXCoord.GetEncoded())
                ? curve
                : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or CryptographicException)
        {
            return null;
        }
    }

    // libcrypto 3.x, EC_GROUP_new(3), EC_POINT_new(3), EC_POINT_add(3) (EC_POINT_mul), BN_new(3).
    [DllImport(Library, EntryPoint = "EC_GROUP_new_by_curve_name")]
    private static extern nint NewGroup(int nid);

    [DllImport(Library, EntryPoint = "EC_POINT_new")]
    private static extern nint NewPoint(nint group);

    [DllImport(Library, EntryPoint = "EC_POINT_free")]
    private static extern void FreePoint(nint point);

    [DllImport(Library, EntryPoint = "EC_POINT_mul")]
    private static extern int Multiply(nint group, nint result, nint generatorScalar, nint point, nint pointScalar, nint context);

    [DllImport(Library, EntryPoint = "EC_POINT_is_at_infinity")]
    private static extern int IsAtInfinity(nint group, nint point);

    [DllImport(Library, EntryPoint = "EC_POINT_oct2point")]
    private static extern int PointFromBytes(nint group, nint point, ref byte bytes, nuint length, nint context);

    [DllImport(Library, EntryPoint = "EC_POINT_point2oct")]
    private static extern nuint PointToBytes(nint group, nint point, int form, ref byte bytes, nuint length, nint context);


}
