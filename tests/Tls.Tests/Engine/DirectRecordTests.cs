using System.Buffers;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Engine;

/// <summary>Application data sealed straight into the caller's writer (past BouncyCastle's output queue): exact
/// records on the wire, nothing left behind, and the queued path when the writer cannot hold a record.</summary>
public class DirectRecordTests
{
    [Theory]
    [InlineData(TlsVersion.Tls13, Org.BouncyCastle.Tls.CipherSuite.TLS_AES_256_GCM_SHA384, 5 + 1 + 16)]
    [InlineData(TlsVersion.Tls13, Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256, 5 + 1 + 16)]
    [InlineData(TlsVersion.Tls13, Org.BouncyCastle.Tls.CipherSuite.TLS_CHACHA20_POLY1305_SHA256, 5 + 1 + 16)]
    [InlineData(TlsVersion.Tls12, Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 5 + 8 + 16)]
    [InlineData(TlsVersion.Tls12, Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 5 + 16)]
    public void Each_write_puts_exactly_its_records_on_the_wire_and_the_peer_reads_them(TlsVersion version, int suite, int overhead)
    {
        var pair = Pair(version, suite);
        foreach (var size in new[] { 1, 100, 1024, 1025, 16383, 16384, 16385, 40_000 })
        {
            var data = Data(size);
            pair.Client.Write(data);

            // No bare header or other leftover joins the records: the wire holds the data plus each record's overhead.
            var records = (size + 16383) / 16384;
            Assert.Equal(size + records * overhead, pair.Client.Outbound.WrittenCount);
            EnginePair.Transfer(pair.Client, pair.Server);
            Assert.Equal(data, pair.Server.TakeReceived());
        }
    }

    [Theory]
    [InlineData(TlsVersion.Tls13)]
    [InlineData(TlsVersion.Tls12)]
    public void A_writer_that_cannot_hold_a_whole_record_gets_it_through_the_queue(TlsVersion version)
    {
        var pair = Pair(version, null);
        var stingy = new StingyWriter(700);
        var data = Data(20_000);

        pair.Client.Engine.Write(data, stingy);
        pair.Client.Engine.Write(Data(300), stingy);
        pair.Server.Process(stingy.Written);

        Assert.Equal([.. data, .. Data(300)], pair.Server.TakeReceived());
        Assert.Equal(TlsEngineState.Open, pair.Server.Engine.State);
    }

    private static byte[] Data(int size)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        return data;
    }

    private static EnginePair Pair(TlsVersion version, int? suite)
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256), client: c => new TlsClientOptions
        {
            ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, OnlyVersion = version,
            CipherSuites = suite is null ? null : [suite.Value],
        });
        pair.Handshake();
        return pair;
    }

    /// <summary>Hands out at most <paramref name="most"/> bytes per span, whatever is asked for.</summary>
    private sealed class StingyWriter(int most) : IBufferWriter<byte>
    {
        private readonly ArrayBufferWriter<byte> _inner = new();

        public byte[] Written => _inner.WrittenSpan.ToArray();

        public void Advance(int count) => _inner.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(most)[..most];

        public Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(most)[..most];
    }
}
