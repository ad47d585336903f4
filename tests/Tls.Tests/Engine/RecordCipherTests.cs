using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;
using Org.BouncyCastle.Tls;

namespace Apps.Tls.Tests.Engine;

public class RecordCipherTests
{
    [Theory]
    [InlineData(Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256, true, false)]
    [InlineData(Org.BouncyCastle.Tls.CipherSuite.TLS_AES_256_GCM_SHA384, true, false)]
    [InlineData(Org.BouncyCastle.Tls.CipherSuite.TLS_CHACHA20_POLY1305_SHA256, true, false)]
    [InlineData(Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256, true, true)]
    [InlineData(Org.BouncyCastle.Tls.CipherSuite.TLS_CHACHA20_POLY1305_SHA256, false, true)]
    [InlineData(Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true, false)]
    [InlineData(Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, true, true)]
    [InlineData(Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true, false)]
    public void Platform_and_bouncycastle_record_ciphers_interoperate(int suite, bool clientPlatform, bool serverPlatform)
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        var pair = EnginePair.Create(certificate,
            client: c => new TlsClientOptions
            {
                ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, CipherSuites = [suite], UsePlatformAead = clientPlatform,
                OnlyVersion = suite > 0x13FF ? TlsVersion.Tls12 : TlsVersion.Tls13,
            },
            server: s => new TlsServerOptions { Credentials = s.Credentials, Random = s.Random, UsePlatformAead = serverPlatform });
        pair.Pump();
        Assert.True(pair.Client.Engine.Error is null && pair.Server.Engine.Error is null,
            $"{pair.Client.Engine.Error} {pair.Client.Engine.Error?.InnerException} / {pair.Server.Engine.Error} {pair.Server.Engine.Error?.InnerException}");
        Assert.Equal(suite, pair.Client.Engine.Connection!.CipherSuite);

        var data = new byte[40_000];
        Random.Shared.NextBytes(data);
        pair.Client.Write(data);
        EnginePair.Transfer(pair.Client, pair.Server);
        pair.Server.Write(data);
        EnginePair.Transfer(pair.Server, pair.Client);
        Assert.Equal(data, pair.Server.TakeReceived());
        Assert.Equal(data, pair.Client.TakeReceived());
    }

    [Theory]
    [InlineData(TlsVersion.Tls13)]
    [InlineData(TlsVersion.Tls12)]
    public void Platform_record_cipher_seals_records_without_a_record_sized_allocation_each(TlsVersion version)
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
            client: c => new TlsClientOptions { ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, OnlyVersion = version });
        pair.Handshake();
        var data = new byte[16 * 1024];
        var wire = new System.Buffers.ArrayBufferWriter<byte>(64 * 1024);
        pair.Client.Engine.Write(data, wire);
        wire.ResetWrittenCount();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 32; i++)
        {
            pair.Client.Engine.Write(data, wire);
            wire.ResetWrittenCount();
        }

        var perRecord = (GC.GetAllocatedBytesForCurrentThread() - before) / 32;
        Assert.True(perRecord < 2048, $"{perRecord} bytes allocated per 16 KiB record");
    }
}
