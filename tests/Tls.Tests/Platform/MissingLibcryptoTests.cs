using System.Reflection;
using System.Runtime.Loader;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Platform;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Tests.Platform;

/// <summary>
/// A system without libcrypto.so.3 (one with only OpenSSL 1.1, say): the platform handshake finds out once, when its
/// known-answer tests cannot load the library, and BouncyCastle's own X25519 and P-256 do the work instead. The
/// library is hidden from a second copy of Apps.Tls (and of these tests) loaded into an AssemblyLoadContext of their
/// own, so that the rest of the run keeps its libcrypto; .NET's own OpenSSL shim is not affected.
/// </summary>
public class MissingLibcryptoTests
{
    [Fact]
    public void Without_libcrypto_the_platform_handshake_falls_back_to_bouncycastle_and_completes()
    {
        var context = new HiddenLibcryptoContext();
        try
        {
            var tests = context.LoadFromAssemblyPath(typeof(MissingLibcryptoTests).Assembly.Location);
            var probe = tests.GetType(typeof(MissingLibcryptoProbe).FullName!, throwOnError: true)!.GetMethod(nameof(MissingLibcryptoProbe.Run))!;

            var result = (string)probe.Invoke(null, null)!;

            Assert.Equal("X25519 on OpenSSL: False; P-256 on OpenSSL: False; X25519: ping; P-256: ping", result);
            Assert.True(context.Refused > 0, "the hidden context was never asked for libcrypto");
        }
        finally
        {
            context.Unload();
        }

        // This context still has its libcrypto: the same probe's premise, the other way round.
        Assert.True(OpenSslX25519.IsAvailable);
        Assert.NotNull(OpenSslCurve.P256);
    }

    private sealed class HiddenLibcryptoContext() : AssemblyLoadContext("libcrypto hidden", isCollectible: true)
    {
        public int Refused;

        protected override Assembly? Load(AssemblyName name) =>
            name.Name is "Apps.Tls" or "Apps.Tls.Tests"
                ? LoadFromAssemblyPath(Path.Combine(AppContext.BaseDirectory, name.Name + ".dll"))
                : null; // everything else (BouncyCastle, xunit) is shared with the default context

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        {
            if (!unmanagedDllName.StartsWith("libcrypto", StringComparison.Ordinal))
            {
                return IntPtr.Zero;
            }

            Interlocked.Increment(ref Refused);
            throw new DllNotFoundException($"{unmanagedDllName} is hidden from this context");
        }
    }
}

/// <summary>Runs inside <see cref="MissingLibcryptoTests"/>' context, against that context's copy of Apps.Tls.</summary>
internal static class MissingLibcryptoProbe
{
    public static string Run()
    {
        var parts = new List<string>
        {
            $"X25519 on OpenSSL: {OpenSslX25519.IsAvailable}",
            $"P-256 on OpenSSL: {OpenSslCurve.P256 is not null}",
        };
        foreach (var (name, group) in new[] { ("X25519", NamedGroup.x25519), ("P-256", NamedGroup.secp256r1) })
        {
            var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
                client: c => new TlsClientOptions
                {
                    ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, Groups = [group], UsePlatformHandshake = true,
                },
                server: s => new TlsServerOptions { Credentials = s.Credentials, Random = s.Random, UsePlatformHandshake = true });
            pair.Handshake();
            pair.Client.Write("ping"u8.ToArray());
            EnginePair.Transfer(pair.Client, pair.Server);
            parts.Add($"{name}: {System.Text.Encoding.ASCII.GetString(pair.Server.TakeReceived())}");
        }

        return string.Join("; ", parts);
    }
}
