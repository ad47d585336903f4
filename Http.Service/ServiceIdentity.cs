using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Apps.Tls.Credentials;
using Apps.TrustStore.Certificates;
using Org.BouncyCastle.Security;

namespace Apps.Http.Service;

/// <summary>
/// The certificate the service presents: given as PEM files, or a self-signed ECDSA P-256 one made on first
/// run and kept in the data directory (so clients that pinned its key keep trusting it).
/// </summary>
internal sealed class ServiceIdentity
{
    public const string CertificateFileName = "https-certificate.pem";
    public const string KeyFileName = "https-key.pem";

    /// <summary>The appliance's own certificate is renewed this long before it expires, with the same key.</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private ServiceIdentity(ServerCredential credential, SpkiFingerprint fingerprint, DateTimeOffset notBefore, DateTimeOffset notAfter,
        string source, string certificatePath, string keyPath, string? keyPasswordPath, bool selfSigned = false)
    {
        SelfSigned = selfSigned;
        CertificatePath = certificatePath;
        KeyPath = keyPath;
        KeyPasswordPath = keyPasswordPath;
        Credential = credential;
        Fingerprint = fingerprint;
        NotBefore = notBefore;
        NotAfter = notAfter;
        Source = source;
    }

    public ServerCredential Credential { get; }

    /// <summary>SHA-256 of the leaf's SubjectPublicKeyInfo.</summary>
    public SpkiFingerprint Fingerprint { get; }

    /// <summary>The form curl's <c>--pinnedpubkey</c> and Chromium's <c>--ignore-certificate-errors-spki-list</c> take (padded base64).</summary>
    public string PinBase64 => Convert.ToBase64String(Fingerprint.Digest);

    /// <summary>The leaf's validity period (RFC 5280 §4.1.2.5).</summary>
    public DateTimeOffset NotBefore { get; }

    /// <summary>The leaf's validity period (RFC 5280 §4.1.2.5).</summary>
    public DateTimeOffset NotAfter { get; }

    /// <summary>The certificate chain's PEM file.</summary>
    public string CertificatePath { get; }

    /// <summary>The private key's PEM file.</summary>
    public string KeyPath { get; }

    /// <summary>The file whose first line is the key's password, when the key is encrypted.</summary>
    public string? KeyPasswordPath { get; }

    /// <summary>Whether this is the appliance's own pair in the data directory (no --cert), which it renews itself.</summary>
    public bool SelfSigned { get; }

    /// <summary>Whether loading it renewed the certificate (<see cref="RenewBefore"/>).</summary>
    public bool Renewed { get; private init; }

    /// <summary>Where the certificate came from, for the status page and the start-up line.</summary>
    public string Source { get; }

    /// <summary>Loads the given PEM files, or the data directory's pair, or makes and saves a new pair.</summary>
    public static ServiceIdentity Load(string? certificatePath, string? keyPath, string? keyPasswordPath, string dataDirectory, SecureRandom random,
        DateTimeOffset now)
    {
        if (certificatePath is not null || keyPath is not null)
        {
            if (certificatePath is null || keyPath is null)
            {
                throw new TlsCredentialException("give both --cert and --key, or neither to use the self-signed certificate");
            }

            return FromCredential(ReadFiles(certificatePath, keyPath, keyPasswordPath), certificatePath, certificatePath, keyPath, keyPasswordPath);
        }

        var savedCertificate = Path.Combine(dataDirectory, CertificateFileName);
        var savedKey = Path.Combine(dataDirectory, KeyFileName);
        if (File.Exists(savedCertificate) && File.Exists(savedKey))
        {
            return FromCredential(ReadFiles(savedCertificate, savedKey, null), savedCertificate, savedCertificate, savedKey, null, selfSigned: true)
                .RenewedIfDue(now, random);
        }

        var made = ApplianceCertificate.Create(["localhost", "127.0.0.1", "::1"], now, random);
        try
        {
            Directory.CreateDirectory(dataDirectory);
            made.WritePemFiles(savedCertificate, savedKey);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServiceStartException(
                $"cannot keep the new self-signed certificate in {dataDirectory} ({e.Message.TrimEnd('.')}); give --data-dir a directory this user can write", e);
        }

        return FromCredential(made.Credential, savedCertificate + " (new)", savedCertificate, savedKey, null, selfSigned: true);
    }

    /// <summary>
    /// Reads this identity's files again (a renewed certificate, or a new pair put in their place) for a reload. Unlike
    /// <see cref="Load"/> it never makes a pair, and it refuses a leaf outside its validity period at
    /// <paramref name="now"/>: every client would refuse it, while the pair being served may still be good. The
    /// appliance's own certificate is renewed instead when it is due (<see cref="RenewBefore"/>).
    /// </summary>
    public ServiceIdentity Reread(DateTimeOffset now, SecureRandom random)
    {
        var next = FromCredential(ReadFiles(CertificatePath, KeyPath, KeyPasswordPath), CertificatePath, CertificatePath, KeyPath, KeyPasswordPath,
            SelfSigned).RenewedIfDue(now, random);
        if (now > next.NotAfter)
        {
            throw new TlsCredentialException(string.Create(CultureInfo.InvariantCulture, $"the certificate in {CertificatePath} expired on {next.NotAfter:yyyy-MM-dd HH:mm} UTC"));
        }

        if (now < next.NotBefore)
        {
            throw new TlsCredentialException(string.Create(CultureInfo.InvariantCulture, $"the certificate in {CertificatePath} is not valid before {next.NotBefore:yyyy-MM-dd HH:mm} UTC"));
        }

        return next;
    }

    /// <summary>The appliance's own certificate, renewed with the same key (pins of it hold) and written back, when it
    /// expires within <see cref="RenewBefore"/>; any other identity as it is.</summary>
    private ServiceIdentity RenewedIfDue(DateTimeOffset now, SecureRandom random)
    {
        if (!SelfSigned || NotAfter - now > RenewBefore)
        {
            return this;
        }

        try
        {
            var renewed = ApplianceCertificate.Renew(File.ReadAllText(CertificatePath), File.ReadAllText(KeyPath), now, random);
            renewed.WritePemFiles(CertificatePath, KeyPath);
            return FromCredential(renewed.Credential, CertificatePath + " (renewed)", CertificatePath, KeyPath, null, selfSigned: true, renewed: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TlsCredentialException($"cannot renew the appliance's certificate in {CertificatePath} ({e.Message.TrimEnd('.')})", e);
        }
    }

    /// <summary>The first line of a password file, without its line end (nginx's <c>ssl_password_file</c> takes the same).</summary>
    public static string ReadPassword(string path)
    {
        string text;
        try
        {
            using var reader = new StreamReader(path);
            text = reader.ReadLine() ?? "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TlsCredentialException($"cannot read the key password file {path} ({e.Message.TrimEnd('.')})", e);
        }

        return text.Length > 0 ? text : throw new TlsCredentialException($"the key password file {path} has no password on its first line");
    }

    private static ServerCredential ReadFiles(string certificatePath, string keyPath, string? keyPasswordPath)
    {
        var password = keyPasswordPath is null ? null : ReadPassword(keyPasswordPath);
        try
        {
            return PemCredentialReader.ReadFiles(certificatePath, keyPath, password);
        }
        catch (TlsCredentialException e) when (e.NeedsPassword)
        {
            throw new TlsCredentialException(e.Message + " with --key-password-file", e);
        }
        catch (FileNotFoundException e)
        {
            throw new TlsCredentialException($"cannot read {e.FileName}: no such file; check the --cert/--key paths", e);
        }
        catch (IOException e)
        {
            throw new TlsCredentialException($"cannot read the certificate or key ({e.Message.TrimEnd('.')}); check the --cert/--key paths and permissions", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new TlsCredentialException($"cannot read the certificate or key ({e.Message}); check file permissions", e);
        }
    }

    private static ServiceIdentity FromCredential(ServerCredential credential, string source, string certificatePath, string keyPath, string? keyPasswordPath,
        bool selfSigned = false, bool renewed = false)
    {
        using var leaf = X509CertificateLoader.LoadCertificate(credential.Chain[0]);
        var fingerprint = SpkiFingerprint.OfSubjectPublicKeyInfo(leaf.PublicKey.ExportSubjectPublicKeyInfo());
        return new ServiceIdentity(credential, fingerprint, new DateTimeOffset(leaf.NotBefore.ToUniversalTime()),
            new DateTimeOffset(leaf.NotAfter.ToUniversalTime()), source, certificatePath, keyPath, keyPasswordPath, selfSigned)
        {
            Renewed = renewed,
        };
    }
}
