using System.Security.Cryptography;
using Org.BouncyCastle.Tls.Crypto;

namespace Apps.Tls.Platform;

/// <summary>
/// HMAC (RFC 2104) on .NET for SHA-256 and SHA-384: the TLS 1.3 Finished MACs (RFC 8446 §4.4.4) and TLS 1.2's
/// verify data. As with BouncyCastle's <c>BcTlsHmac</c>, computing a MAC resets it to the keyed, empty state.
/// </summary>
internal sealed class PlatformTlsHmac : TlsHmac
{
    private readonly HashAlgorithmName _hash;
    private IncrementalHash? _mac;

    private PlatformTlsHmac(HashAlgorithmName hash, int blockSize, int macLength)
    {
        _hash = hash;
        InternalBlockSize = blockSize;
        MacLength = macLength;
    }

    public int InternalBlockSize { get; }

    public int MacLength { get; }

    /// <summary>An HMAC for SHA-256 or SHA-384, or null for any other hash (left to BouncyCastle).</summary>
    public static PlatformTlsHmac? Create(int cryptoHashAlgorithm) => cryptoHashAlgorithm switch
    {
        CryptoHashAlgorithm.sha256 => new(HashAlgorithmName.SHA256, 64, 32),
        CryptoHashAlgorithm.sha384 => new(HashAlgorithmName.SHA384, 128, 48),
        _ => null,
    };

    public void SetKey(byte[] key, int keyOff, int keyLen) => SetKey(key.AsSpan(keyOff, keyLen));

    public void SetKey(ReadOnlySpan<byte> key)
    {
        _mac?.Dispose();
        _mac = IncrementalHash.CreateHMAC(_hash, key);
    }

    public void Update(byte[] input, int inOff, int length) => Keyed.AppendData(input, inOff, length);

    public void Update(ReadOnlySpan<byte> input) => Keyed.AppendData(input);

    public byte[] CalculateMac() => Keyed.GetHashAndReset();

    public void CalculateMac(byte[] output, int outOff) => Keyed.GetHashAndReset(output.AsSpan(outOff, MacLength));

    public void Reset()
    {
        if (_mac is not null)
        {
            Span<byte> discarded = stackalloc byte[MacLength];
            _mac.GetHashAndReset(discarded);
        }
    }

    private IncrementalHash Keyed => _mac ?? throw new InvalidOperationException("HMAC used before SetKey");
}
