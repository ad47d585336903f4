using System.Buffers;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Engine;

/// <summary>The I/O shell's input path that decrypts whole records where they lie (no copy into the engine).</summary>
public class InPlaceInputTests
{
    [Theory]
    [InlineData(TlsVersion.Tls13, 100_000)]
    [InlineData(TlsVersion.Tls13, 7_000)]
    [InlineData(TlsVersion.Tls12, 1)]
    [InlineData(TlsVersion.Tls12, 16_406)]
    public void Records_fed_in_place_in_any_chunking_decrypt_to_what_was_sent(TlsVersion version, int chunk)
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
            client: c => new TlsClientOptions { ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, OnlyVersion = version });
        pair.Handshake();
        var data = new byte[50_000];
        Random.Shared.NextBytes(data);
        pair.Client.Write(data[..20_000]);
        pair.Client.Write(data[20_000..]);
        var wire = pair.Client.Outbound.WrittenSpan.ToArray();
        var received = new ArrayBufferWriter<byte>();

        for (var at = 0; at < wire.Length; at += chunk)
        {
            var length = Math.Min(chunk, wire.Length - at);
            var result = pair.Server.Engine.ProcessInPlace(new ArraySegment<byte>(wire, at, length), TestPki.Now, pair.Server.Outbound, received);
            Assert.Equal(length, result.Consumed);
        }

        Assert.Equal(data, received.WrittenSpan.ToArray());
    }

    [Fact]
    public void Oversized_record_fed_in_place_fails_with_record_overflow()
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256));
        pair.Handshake();
        var record = new byte[5 + 20_000];
        record[0] = 23;
        record[1] = 3;
        record[2] = 3;
        record[3] = 20_000 >> 8;
        record[4] = 20_000 & 0xFF;

        pair.Server.Engine.ProcessInPlace(record, TestPki.Now, pair.Server.Outbound, new ArrayBufferWriter<byte>());

        Assert.Equal(TlsAlertDescription.RecordOverflow, pair.Server.Engine.Error!.Alert!.Value.Description);
    }
}
