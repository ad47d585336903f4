using Apps.Tls.Verification;

namespace Apps.Tls.Tests.Verification;

/// <summary>
/// Chains made by Debian's openssl (a second, independent encoder), verified by us and by
/// `openssl verify`: the two verifiers must agree.
/// </summary>
public sealed class OpenSslChainTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("apps-verify-").FullName;
    // A minute after issuance: openssl stamps notBefore with the current second.
    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow().AddMinutes(1);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private void OpenSsl(params string[] arguments)
    {
        var result = ExternalTool.Run("openssl", arguments);
        Assert.True(result.ExitCode == 0, $"openssl {string.Join(' ', arguments)}: {result.Stderr}");
    }

    private void MakeKey(string name) =>
        OpenSsl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", PathOf(name + ".key"));

    private void MakeRoot()
    {
        MakeKey("root");
        File.WriteAllText(PathOf("root.ext"),
            "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n");
        OpenSsl("req", "-x509", "-new", "-key", PathOf("root.key"), "-subj", "/CN=OpenSSL Test Root", "-days", "30",
            "-sha256", "-extensions", "v3", "-config", WriteConfig("root.ext"), "-out", PathOf("root.pem"));
    }

    private string WriteConfig(string extFile)
    {
        var config = PathOf(extFile + ".cnf");
        File.WriteAllText(config, "[req]\ndistinguished_name=dn\n[dn]\n[v3]\n" + File.ReadAllText(PathOf(extFile)));
        return config;
    }

    private void Issue(string name, string issuer, string subject, string extensions, string days)
    {
        MakeKey(name);
        OpenSsl("req", "-new", "-key", PathOf(name + ".key"), "-subj", subject, "-out", PathOf(name + ".csr"));
        File.WriteAllText(PathOf(name + ".ext"), extensions + "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
        OpenSsl("x509", "-req", "-in", PathOf(name + ".csr"), "-CA", PathOf(issuer + ".pem"), "-CAkey", PathOf(issuer + ".key"),
            "-CAcreateserial", "-days", days, "-sha256", "-extfile", PathOf(name + ".ext"), "-out", PathOf(name + ".pem"));
    }

    private byte[] Der(string name) => TrustAnchors.ReadPemCertificates(File.ReadAllText(PathOf(name + ".pem")))[0];

    private bool OpenSslVerifies(string host) =>
        ExternalTool.Run("openssl", ["verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", host,
            "-CAfile", PathOf("root.pem"), "-untrusted", PathOf("int.pem"), PathOf("leaf.pem")]).ExitCode == 0;

    private CertificateVerdict WeVerify(string host) =>
        new StrictCertificateVerifier(TrustAnchors.FromPem(File.ReadAllText(PathOf("root.pem"))))
            .Verify([Der("leaf"), Der("int")], host, Now);

    private void MakeChain(string leafSan)
    {
        MakeRoot();
        Issue("int", "root", "/CN=OpenSSL Test Intermediate",
            "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n", "20");
        Issue("leaf", "int", "/CN=www.example.org",
            $"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName={leafSan}\n", "10");
    }

    [Fact]
    public void OpenSsl_made_chain_verifies_here_and_in_openssl()
    {
        MakeChain("DNS:www.example.org,DNS:example.org,IP:192.0.2.10");

        Assert.True(OpenSslVerifies("www.example.org"));
        var verdict = WeVerify("www.example.org");
        Assert.True(verdict.IsVerified, verdict.Message);
        Assert.Equal(3, verdict.VerifiedChain.Count);
        Assert.True(WeVerify("192.0.2.10").IsVerified);
    }

    [Fact]
    public void OpenSsl_and_we_both_refuse_a_name_the_certificate_does_not_carry()
    {
        MakeChain("DNS:www.example.org");

        Assert.False(OpenSslVerifies("mail.example.org"));
        var verdict = WeVerify("mail.example.org");
        Assert.Equal(VerificationFailure.NameMismatch, verdict.Failure);
        Assert.Equal("certificate for www.example.org is not valid for the name 'mail.example.org' (it names www.example.org)", verdict.Message);
    }

    [Fact]
    public void OpenSsl_made_chain_is_expired_after_its_not_after()
    {
        MakeChain("DNS:www.example.org");

        var verdict = new StrictCertificateVerifier(TrustAnchors.FromPem(File.ReadAllText(PathOf("root.pem"))))
            .Verify([Der("leaf"), Der("int")], "www.example.org", Now.AddDays(15));

        Assert.Equal(VerificationFailure.Expired, verdict.Failure);
    }
}
