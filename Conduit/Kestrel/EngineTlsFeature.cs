using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Apps.Tls.Engine;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Apps.Conduit.Kestrel;

/// <summary>
/// Tells Kestrel what our TLS engine negotiated: <see cref="ITlsConnectionFeature"/> marks the connection as
/// HTTPS, <see cref="ITlsHandshakeFeature"/> carries version and suite (HTTP/2 needs TLS 1.2 or later,
/// RFC 9113 §9.2), <see cref="ITlsApplicationProtocolFeature"/> the ALPN result (RFC 7301) that picks
/// HTTP/2 or HTTP/1.1.
/// </summary>
public sealed class EngineTlsFeature : ITlsConnectionFeature, ITlsHandshakeFeature, ITlsApplicationProtocolFeature
{
    private readonly ReadOnlyMemory<byte> _alpn;

    public EngineTlsFeature(TlsConnectionInfo info)
    {
        Info = info;
        _alpn = info.ApplicationProtocol is null ? ReadOnlyMemory<byte>.Empty : System.Text.Encoding.ASCII.GetBytes(info.ApplicationProtocol);
    }

    /// <summary>What the handshake negotiated, as our engine reports it.</summary>
    public TlsConnectionInfo Info { get; }

    /// <summary>No client certificates are requested.</summary>
    public X509Certificate2? ClientCertificate
    {
        get => null;
        set => throw new NotSupportedException("client certificates are not requested by this server");
    }

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);

    public ReadOnlyMemory<byte> ApplicationProtocol => _alpn;

    public SslProtocols Protocol => Info.Version == TlsVersion.Tls13 ? SslProtocols.Tls13 : SslProtocols.Tls12;

    public TlsCipherSuite? NegotiatedCipherSuite => (TlsCipherSuite)Info.CipherSuite;

    public string HostName => Info.ServerName ?? "";

#pragma warning disable SYSLIB0058 // obsolete in .NET 10 but still part of the interface
    public CipherAlgorithmType CipherAlgorithm => CipherAlgorithmType.None;

    public int CipherStrength => 0;

    public HashAlgorithmType HashAlgorithm => HashAlgorithmType.None;

    public int HashStrength => 0;

    public ExchangeAlgorithmType KeyExchangeAlgorithm => ExchangeAlgorithmType.None;

    public int KeyExchangeStrength => 0;
#pragma warning restore SYSLIB0058
}
