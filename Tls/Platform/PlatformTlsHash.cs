using System.Security.Cryptography;
using Org.BouncyCastle.Tls.Crypto;

namespace Apps.Tls.Platform;

/// <summary>
/// A running hash (the TLS handshake transcript, RFC 8446 §4.4.1) on .NET's <see cref="IncrementalHash"/> (OpenSSL,
/// SHA-NI where the CPU has it). Same semantics as BouncyCastle's <c>BcTlsHash</c>: computing the hash resets it, and a
/// clone forks the state, which the transcript needs at every Finished and CertificateVerify.
/// </summary>
internal sealed class PlatformTlsHash(IncrementalHash hash) : TlsHash
{
    /// <summary>A hash for SHA-256 or SHA-384, or null for any other algorithm (left to BouncyCastle).</summary>
    public static PlatformTlsHash? Create(int cryptoHashAlgorithm) => cryptoHashAlgorithm switch
    {
        CryptoHashAlgorithm.sha256 => new(IncrementalHash.CreateHash(HashAlgorithmName.SHA256)),
        CryptoHashAlgorithm.sha384 => new(IncrementalHash.CreateHash(HashAlgorithmName.SHA384)),
        _ => null,
    };

    public void Update(byte[] input, int inOff, int length) => hash.AppendData(input, inOff, length);

    public void Update(ReadOnlySpan<byte> input) => hash.AppendData(input);

    public byte[] CalculateHash() => hash.GetHashAndReset();

    public TlsHash CloneHash() => new PlatformTlsHash(hash.Clone());

    public void Reset()
    {
        Span<byte> discarded = stackalloc byte[hash.HashLengthInBytes];
        hash.GetHashAndReset(discarded);
    }
}
