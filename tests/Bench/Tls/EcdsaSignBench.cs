using System.Security.Cryptography;
using Apps.Tls.Platform;
using BenchmarkDotNet.Attributes;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace Apps.Bench.Tls;

/// <summary>
/// One ECDSA P-256 CertificateVerify signature (RFC 6979 nonce, SHA-256 transcript hash already made), as a server
/// makes per new TLS connection: BouncyCastle alone (the anchor), BouncyCastle with OpenSSL's k·G
/// (<see cref="PlatformBasePointMultiplier"/>), and that with OpenSSL's s as well (<see cref="OpenSslEcdsaKey"/>).
/// All three produce the same bytes. Run: <c>dotnet run -c Release --project tests/Bench -- --filter '*EcdsaSign*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
public class EcdsaSignBench
{
    private static readonly int Scheme = SignatureScheme.ecdsa_secp256r1_sha256;
    private readonly SignatureAndHashAlgorithm _algorithm = SignatureScheme.GetSignatureAndHashAlgorithm(Scheme);
    private readonly byte[] _hash = RandomNumberGenerator.GetBytes(32);
    private BcTlsCrypto _crypto = null!;
    private ECPrivateKeyParameters _key = null!;
    private PlatformBasePointMultiplier _multiplier = null!;
    private OpenSslEcdsaKey _held = null!;

    [GlobalSetup]
    public void Setup()
    {
        _crypto = new BcTlsCrypto(new SecureRandom());
        var domain = new ECDomainParameters(NistNamedCurves.GetByName("P-256"));
        _key = new ECPrivateKeyParameters(new BcBigInteger(1, RandomNumberGenerator.GetBytes(32)).Mod(domain.N.Subtract(BcBigInteger.One)).Add(BcBigInteger.One), domain);
        _multiplier = PlatformBasePointMultiplier.For(domain) ?? throw new InvalidOperationException("no libcrypto P-256");
        _held = PlatformEcdsaSigner.KeyFor(_key) ?? throw new InvalidOperationException("libcrypto refused the key");
    }

    [GlobalCleanup]
    public void Cleanup() => _held.Dispose();

    [Benchmark(Baseline = true)]
    public byte[] BouncyCastle() => new BcTlsECDsa13Signer(_crypto, _key, Scheme).GenerateRawSignature(_algorithm, _hash);

    [Benchmark]
    public byte[] OpenSslBasePoint() => new PlatformEcdsaSigner(_crypto, _key, Scheme, _multiplier).GenerateRawSignature(_algorithm, _hash);

    [Benchmark]
    public byte[] OpenSslBasePointAndS() => new PlatformEcdsaSigner(_crypto, _key, Scheme, _multiplier, _held).GenerateRawSignature(_algorithm, _hash);
}
