using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Apps.TrustStore.Tests;

/// <summary>Self-signed certificates made with .NET's CertificateRequest, independent of the code under test.</summary>
internal static class TestCertificates
{
    public static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A P-256 key, distinct per call.</summary>
    public static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>DER of a self-signed certificate for <paramref name="dnsName"/> with the given key and validity.</summary>
    public static byte[] SelfSigned(ECDsa key, string dnsName = "server.example", DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        var request = new CertificateRequest($"CN={dnsName}, O=Test", key, HashAlgorithmName.SHA256);
        var sans = new SubjectAlternativeNameBuilder();
        sans.AddDnsName(dnsName);
        sans.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(sans.Build());
        using X509Certificate2 cert = request.CreateSelfSigned(notBefore ?? Now.AddDays(-10), notAfter ?? Now.AddDays(365));
        return cert.RawData;
    }

    /// <summary>The SHA-256 of the key's SubjectPublicKeyInfo, computed by .NET.</summary>
    public static byte[] SpkiSha256(ECDsa key) => SHA256.HashData(key.ExportSubjectPublicKeyInfo());

    /// <summary>A fresh temporary directory, removed on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir() => Directory.CreateDirectory(Path);
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "trust-tests-" + Guid.NewGuid().ToString("N"));
        public string Db => System.IO.Path.Combine(Path, "trust.db");
        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (DirectoryNotFoundException) { }
        }
    }
}
