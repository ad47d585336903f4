// I/O shell for verification: reads the operating system's CA bundle. The verification core
// (the folder above) never touches files; it takes TrustAnchors built from bytes.
namespace Apps.Tls.Verification.Storage;

/// <summary>The system's trusted roots, as Debian's ca-certificates package maintains them.</summary>
public static class SystemTrustStore
{
    /// <summary>Debian's CA bundle.</summary>
    public const string BundlePath = "/etc/ssl/certs/ca-certificates.crt";

    /// <summary>Reads the bundle (<see cref="BundlePath"/> unless another path is given) into anchors.</summary>
    /// <exception cref="IOException">The bundle cannot be read; install ca-certificates or pass roots explicitly.</exception>
    public static TrustAnchors Load(string path = BundlePath) => TrustAnchors.FromPem(File.ReadAllText(path));

    /// <summary>A strict verifier over the system roots, read once now.</summary>
    public static StrictCertificateVerifier CreateVerifier(VerificationLimits? limits = null) => new(Load(), limits);
}
