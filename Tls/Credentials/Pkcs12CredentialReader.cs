using Org.BouncyCastle.Pkcs;
using X509Certificate = Org.BouncyCastle.X509.X509Certificate;

namespace Apps.Tls.Credentials;

/// <summary>Reads a server credential from a PKCS#12 (RFC 7292) file: the first key entry and its chain.</summary>
public static class Pkcs12CredentialReader
{
    public static ServerCredential Read(byte[] pkcs12, string password)
    {
        var store = new Pkcs12StoreBuilder().Build();
        try
        {
            store.Load(new MemoryStream(pkcs12, writable: false), password.ToCharArray());
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException
            or Org.BouncyCastle.Crypto.CryptoException or Org.BouncyCastle.Security.SecurityUtilityException)
        {
            throw new TlsCredentialException($"the PKCS#12 file could not be opened ({e.Message}); check the password and the file", e);
        }

        foreach (var alias in store.Aliases)
        {
            if (!store.IsKeyEntry(alias))
            {
                continue;
            }

            var chain = new List<X509Certificate>();
            foreach (var entry in store.GetCertificateChain(alias) ?? [])
            {
                chain.Add(entry.Certificate);
            }

            return new ServerCredential(chain, store.GetKey(alias).Key);
        }

        throw new TlsCredentialException("the PKCS#12 file holds no private key; export it together with the key");
    }

    public static ServerCredential ReadFile(string path, string password) => Read(File.ReadAllBytes(path), password);
}
