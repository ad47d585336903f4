using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Apps.Tls.Entropy.Sources;

namespace Apps.Conduit.Tests;

/// <summary>Fortuna for the tests of one class, seeded from the default sources.</summary>
public sealed class EntropyFixture : IAsyncLifetime
{
    public EntropyRuntime Runtime { get; private set; } = null!;

    public async Task InitializeAsync() => Runtime = await EntropyRuntime.StartAsync(new EntropyRuntimeOptions());

    public async Task DisposeAsync() => await Runtime.DisposeAsync();
}

/// <summary>Certificates made by openssl, and an openssl s_server as a real TLS peer.</summary>
internal static class TestPeers
{
    public static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await output + await error);
    }

    /// <summary>A self-signed P-256 certificate for localhost; returns (certificate path, key path).</summary>
    public static async Task<(string Certificate, string Key)> SelfSignedAsync(string directory, string name)
    {
        var key = Path.Combine(directory, name + ".key");
        var certificate = Path.Combine(directory, name + ".pem");
        var (code, output) = await RunAsync("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost");
        Assert.True(code == 0, output);
        return (certificate, key);
    }

    /// <summary>A test CA and a leaf for localhost signed by it; returns (CA path, leaf certificate path, leaf key path).</summary>
    public static async Task<(string Ca, string Certificate, string Key)> CaSignedAsync(string directory, string name)
    {
        string P(string suffix) => Path.Combine(directory, name + suffix);
        var steps = new[]
        {
            new[] { "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", P("-ca.key"), "-out", P("-ca.pem"),
                "-days", "2", "-subj", "/CN=Conduit Test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign" },
            new[] { "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", P(".key"), "-out", P(".csr"), "-subj", "/CN=localhost" },
            new[] { "x509", "-req", "-in", P(".csr"), "-CA", P("-ca.pem"), "-CAkey", P("-ca.key"), "-CAcreateserial", "-out", P(".pem"), "-days", "2", "-sha256", "-extfile", P(".ext") },
        };
        File.WriteAllText(P(".ext"), "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n");
        foreach (var step in steps)
        {
            var (code, output) = await RunAsync("openssl", step);
            Assert.True(code == 0, output);
        }

        return (P("-ca.pem"), P(".pem"), P(".key"));
    }

    /// <summary>The OpenSSH-style SPKI fingerprint of a PEM certificate, computed independently of the trust store.</summary>
    public static string Fingerprint(string certificatePath)
    {
        using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(certificatePath));
        return "SHA256:" + Convert.ToBase64String(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo())).TrimEnd('=');
    }

    /// <summary>Starts <c>openssl s_server -www</c> on 127.0.0.1 and waits until it accepts connections.</summary>
    public static async Task<Process> StartOpensslServerAsync(int port, string certificate, string key, params string[] extra)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in (string[])["s_server", "-accept", $"127.0.0.1:{port}", "-cert", certificate, "-key", key, "-www", "-naccept", "100", .. extra])
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (var i = 0; i < 200; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return process;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        process.Kill();
        throw new TimeoutException("openssl s_server did not start listening");
    }

    public static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit();
        }

        process.Dispose();
    }
}
