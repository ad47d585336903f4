using Apps.Tls.Platform;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using X509Certificate = Org.BouncyCastle.X509.X509Certificate;

namespace Apps.Tls.Credentials;

/// <summary>The kind of key a server certificate carries.</summary>
public enum ServerKeyType
{
    Rsa,
    EcdsaP256,
    EcdsaP384,
    Ed25519,
}

/// <summary>
/// A server's certificate chain and private key, parsed and checked once; every handshake only wraps them
/// in a small per-connection signer. Load with <see cref="PemCredentialReader"/> or <see cref="Pkcs12CredentialReader"/>.
/// </summary>
public sealed class ServerCredential
{
    private readonly AsymmetricKeyParameter _privateKey;
    private readonly Certificate _chain12;
    private readonly Certificate _chain13;
    private readonly Lazy<PlatformBasePointMultiplier?> _platformMultiplier;
    private readonly Lazy<OpenSslEcdsaKey?> _platformKey;

    internal ServerCredential(IReadOnlyList<X509Certificate> chain, AsymmetricKeyParameter privateKey)
    {
        if (chain.Count == 0)
        {
            throw new TlsCredentialException("no certificate found; the certificate file must hold the server certificate first, then its intermediates");
        }

        if (!privateKey.IsPrivate)
        {
            throw new TlsCredentialException("the key given is a public key; give the server's private key");
        }

        KeyType = KeyTypeOf(privateKey);
        if (!KeyMatches(privateKey, chain[0].GetPublicKey()))
        {
            throw new TlsCredentialException(
                $"the private key does not belong to the certificate for '{chain[0].SubjectDN}'; check that the key and certificate files are a pair");
        }

        _privateKey = privateKey;
        _platformMultiplier = new(() => privateKey is ECPrivateKeyParameters ec ? PlatformBasePointMultiplier.For(ec.Parameters) : null);
        _platformKey = new(() => privateKey is ECPrivateKeyParameters ec ? PlatformEcdsaSigner.KeyFor(ec) : null);
        var der = new List<byte[]>(chain.Count);
        var tlsCertificates = new TlsCertificate[chain.Count];
        var entries = new CertificateEntry[chain.Count];
        for (var i = 0; i < chain.Count; i++)
        {
            der.Add(chain[i].GetEncoded());
            tlsCertificates[i] = new EncodedCertificate(ParsingCrypto, der[i]);
            entries[i] = new CertificateEntry(tlsCertificates[i], null);
        }

        Chain = der;
        _chain12 = new Certificate(tlsCertificates);
        _chain13 = new Certificate(TlsUtilities.EmptyBytes, entries);
        DnsNames = DnsNamesOf(chain[0]);
    }

    /// <summary>The chain as DER, leaf first.</summary>
    public IReadOnlyList<byte[]> Chain { get; }

    /// <summary>The leaf's subjectAltName dNSName entries, used to pick this credential by SNI.</summary>
    public IReadOnlyList<string> DnsNames { get; }

    public ServerKeyType KeyType { get; }

    /// <summary>Parses certificates without ever drawing randomness.</summary>
    private static BcTlsCrypto ParsingCrypto { get; } = new(new SecureRandom(new RefusingRandomGenerator()));

    /// <summary>RFC 5246 §7.4.2: in TLS 1.2 the suite's key exchange fixes the certificate's key type.</summary>
    internal bool CanServe(int keyExchangeAlgorithm) => keyExchangeAlgorithm switch
    {
        KeyExchangeAlgorithm.NULL => true,
        KeyExchangeAlgorithm.ECDHE_ECDSA => KeyType != ServerKeyType.Rsa,
        KeyExchangeAlgorithm.ECDHE_RSA => KeyType == ServerKeyType.Rsa,
        _ => false,
    };

    /// <summary>The signer for one handshake; with <paramref name="platformSigning"/> an ECDSA key on P-256 or P-384
    /// signs through <see cref="PlatformEcdsaSigner"/> (the same signature bytes, k·G and s by OpenSSL).</summary>
    internal TlsCredentialedSigner CreateSigner(TlsContext context, BcTlsCrypto crypto, bool platformSigning = false)
    {
        var tls13 = TlsUtilities.IsTlsV13(context);
        var scheme = ChooseScheme(context.SecurityParameters.ClientSigAlgs, tls13);
        var chain = tls13 ? _chain13 : _chain12;
        if (platformSigning && _privateKey is ECPrivateKeyParameters ec && _platformMultiplier.Value is { } multiplier)
        {
            return new DefaultTlsCredentialedSigner(new TlsCryptoParameters(context),
                new PlatformEcdsaSigner(crypto, ec, SignatureScheme.From(scheme), multiplier, _platformKey.Value), chain, scheme);
        }

        return new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(context), crypto, _privateKey, chain, scheme);
    }

    /// <summary>RFC 8446 §4.2.3 / RFC 5246 §7.4.1.4.1: the first scheme our key can make that the client offered.</summary>
    private SignatureAndHashAlgorithm ChooseScheme(IList<SignatureAndHashAlgorithm>? offered, bool tls13)
    {
        SignatureAndHashAlgorithm[] candidates = KeyType switch
        {
            ServerKeyType.EcdsaP256 => [SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa)],
            ServerKeyType.EcdsaP384 => [SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha384, SignatureAlgorithm.ecdsa)],
            ServerKeyType.Ed25519 => [SignatureAndHashAlgorithm.ed25519],
            _ when tls13 =>
            [
                SignatureAndHashAlgorithm.rsa_pss_rsae_sha256, SignatureAndHashAlgorithm.rsa_pss_rsae_sha384,
                SignatureAndHashAlgorithm.rsa_pss_rsae_sha512,
            ],
            _ =>
            [
                SignatureAndHashAlgorithm.rsa_pss_rsae_sha256, SignatureAndHashAlgorithm.rsa_pss_rsae_sha384,
                SignatureAndHashAlgorithm.rsa_pss_rsae_sha512,
                SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha256, SignatureAlgorithm.rsa),
                SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha384, SignatureAlgorithm.rsa),
                SignatureAndHashAlgorithm.GetInstance(HashAlgorithm.sha512, SignatureAlgorithm.rsa),
            ],
        };

        if (offered is not null)
        {
            foreach (var candidate in candidates)
            {
                if (offered.Contains(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new TlsFatalAlert(AlertDescription.handshake_failure,
            $"the client accepts no signature scheme our {KeyType} key can produce");
    }

    private static ServerKeyType KeyTypeOf(AsymmetricKeyParameter key) => key switch
    {
        RsaKeyParameters rsa when rsa.Modulus.BitLength >= 2048 => ServerKeyType.Rsa,
        RsaKeyParameters => throw new TlsCredentialException("the RSA key is shorter than 2048 bits; make a new key of at least 2048 bits"),
        ECPrivateKeyParameters ec when ec.Parameters.N.BitLength == 256 => ServerKeyType.EcdsaP256,
        ECPrivateKeyParameters ec when ec.Parameters.N.BitLength == 384 => ServerKeyType.EcdsaP384,
        Ed25519PrivateKeyParameters => ServerKeyType.Ed25519,
        _ => throw new TlsCredentialException(
            $"unsupported key type {key.GetType().Name}; use RSA (2048+ bits), ECDSA P-256/P-384 or Ed25519"),
    };

    private static bool KeyMatches(AsymmetricKeyParameter privateKey, AsymmetricKeyParameter publicKey) =>
        (privateKey, publicKey) switch
        {
            (RsaKeyParameters p, RsaKeyParameters q) => p.Modulus.Equals(q.Modulus),
            (ECPrivateKeyParameters p, ECPublicKeyParameters q) =>
                p.Parameters.G.Multiply(p.D).Normalize().Equals(q.Q.Normalize()),
            (Ed25519PrivateKeyParameters p, Ed25519PublicKeyParameters q) =>
                p.GeneratePublicKey().GetEncoded().AsSpan().SequenceEqual(q.GetEncoded()),
            _ => false,
        };

    private static List<string> DnsNamesOf(X509Certificate certificate)
    {
        var names = new List<string>();
        var extension = certificate.GetExtensionValue(X509Extensions.SubjectAlternativeName);
        if (extension is null)
        {
            return names;
        }

        foreach (var name in GeneralNames.GetInstance(Asn1Object.FromByteArray(extension.GetOctets())).GetNames())
        {
            if (name.TagNo == GeneralName.DnsName)
            {
                names.Add(DerIA5String.GetInstance(name.Name).GetString());
            }
        }

        return names;
    }

    /// <summary>
    /// A certificate that hands out the DER it was parsed from. BouncyCastle's <see cref="BcTlsCertificate.GetEncoded"/>
    /// re-encodes the parsed structure each time it is called, which is once per certificate per handshake.
    /// </summary>
    private sealed class EncodedCertificate : BcTlsCertificate
    {
        private readonly byte[] _der;

        public EncodedCertificate(BcTlsCrypto crypto, byte[] der) : base(crypto, der) => _der = der;

        public override byte[] GetEncoded() => (byte[])_der.Clone();
    }

    /// <summary>Parsing needs a crypto object but no randomness; this generator makes sure none is drawn.</summary>
    private sealed class RefusingRandomGenerator : Org.BouncyCastle.Crypto.Prng.IRandomGenerator
    {
        public void AddSeedMaterial(byte[] seed) { }

        public void AddSeedMaterial(ReadOnlySpan<byte> seed) { }

        public void AddSeedMaterial(long seed) { }

        public void NextBytes(byte[] bytes) => throw new InvalidOperationException("certificate parsing must not draw randomness");

        public void NextBytes(byte[] bytes, int start, int len) => NextBytes(bytes);

        public void NextBytes(Span<byte> bytes) => throw new InvalidOperationException("certificate parsing must not draw randomness");
    }
}

/// <summary>Server certificate or key material could not be used; the message says what to fix.</summary>
public sealed class TlsCredentialException : Exception
{
    public TlsCredentialException(string message, Exception? inner = null) : base(message, inner)
    {
    }

    /// <summary>The key is encrypted and no password was given: a caller can say how its user gives one.</summary>
    public bool NeedsPassword { get; init; }
}
