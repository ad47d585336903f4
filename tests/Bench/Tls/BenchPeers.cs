using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Verification;
using Org.BouncyCastle.Security;

namespace Apps.Bench.Tls;

/// <summary>One ECDSA P-256 certificate, shared by both implementations, and the in-memory pipe pair both run over.</summary>
internal static class BenchPeers
{
    public static readonly X509Certificate2 Certificate = CreateCertificate();

    public static readonly ServerCredentialSet Credentials = new(PemCredentialReader.Read(
        Certificate.ExportCertificatePem(), Certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem()));

    public static (IDuplexPipe Client, IDuplexPipe Server) PipePair()
    {
        var toServer = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var toClient = new Pipe(new PipeOptions(useSynchronizationContext: false));
        return (new Duplex(toClient.Reader, toServer.Writer), new Duplex(toServer.Reader, toClient.Writer));
    }

    public static TlsClientOptions ClientOptions(int? suite = null, bool platformAead = true, bool platformHandshake = true) => new()
    {
        ServerName = "bench.test",
        Verifier = new LeafVerifier(Certificate.RawData),
        Random = new SecureRandom(),
        OnlyVersion = TlsVersion.Tls13,
        Groups = [Org.BouncyCastle.Tls.NamedGroup.x25519],
        CipherSuites = suite is null ? null : [suite.Value],
        UsePlatformAead = platformAead,
        UsePlatformHandshake = platformHandshake,
    };

    public static TlsServerOptions ServerOptions(bool platformAead = true, bool platformHandshake = true) => new()
    {
        Credentials = Credentials, Random = new SecureRandom(), OnlyVersion = TlsVersion.Tls13, UsePlatformAead = platformAead,
        UsePlatformHandshake = platformHandshake,
    };

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static SslClientAuthenticationOptions SslClientOptions(TlsCipherSuite? suite = null) => new()
    {
        TargetHost = "bench.test",
        EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls13,
        RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(Certificate.RawData),
        CipherSuitesPolicy = suite is null ? null : new CipherSuitesPolicy([suite.Value]),
    };

    public static SslServerAuthenticationOptions SslServerOptions() => new()
    {
        ServerCertificateContext = SslStreamCertificateContext.Create(Certificate, null),
        EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls13,
    };

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=bench.test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("bench.test");
        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>Accepts exactly the bench certificate, as the SslStream callback does.</summary>
    private sealed class LeafVerifier(byte[] expected) : IServerCertificateVerifier
    {
        public CertificateVerdict Verify(IReadOnlyList<byte[]> peerChain, string serverName, DateTimeOffset now) =>
            peerChain[0].AsSpan().SequenceEqual(expected)
                ? new CertificateVerdict(VerificationFailure.None, "pinned", peerChain)
                : new CertificateVerdict(VerificationFailure.UnknownIssuer, "not the bench certificate", []);
    }
}

/// <summary>A Stream over one end of a pipe pair, for SslStream.</summary>
internal sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
{
    private readonly Stream _input = pipe.Input.AsStream();
    private readonly Stream _output = pipe.Output.AsStream();

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _input.ReadAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _output.WriteAsync(buffer, cancellationToken);

    public override Task FlushAsync(CancellationToken cancellationToken) => _output.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => _input.Read(buffer, offset, count);

    public override void Write(byte[] buffer, int offset, int count) => _output.Write(buffer, offset, count);

    public override void Flush() => _output.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _input.Dispose();
            _output.Dispose();
        }

        base.Dispose(disposing);
    }
}
