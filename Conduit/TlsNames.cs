using Apps.Tls.Engine;

namespace Apps.Conduit;

/// <summary>How TLS versions are written for people and traces.</summary>
public static class TlsNames
{
    /// <summary>"TLSv1.3" or "TLSv1.2", as OpenSSL writes them.</summary>
    public static string Version(TlsVersion version) => version == TlsVersion.Tls13 ? "TLSv1.3" : "TLSv1.2";
}
