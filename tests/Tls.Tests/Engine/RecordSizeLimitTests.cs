using System.Buffers.Binary;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;

namespace Apps.Tls.Tests.Engine;

/// <summary>record_size_limit (RFC 8449) between our client and server in memory.</summary>
public class RecordSizeLimitTests
{
    private const int Tls13Overhead = 1 + 16;   // content type + AEAD tag (RFC 8446 §5.2)
    private const int Tls12GcmOverhead = 8 + 16; // explicit nonce + tag (RFC 5288 §3)

    private static EnginePair Pair(TlsVersion version, int? clientLimit = null) =>
        EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256), client: c => new TlsClientOptions
        {
            ServerName = c.ServerName, Verifier = c.Verifier, Random = c.Random, OnlyVersion = version,
            AdvertisedRecordSizeLimit = clientLimit,
        });

    /// <summary>The length field of every record in <paramref name="bytes"/> (RFC 8446 §5.1).</summary>
    private static List<int> RecordLengths(ReadOnlySpan<byte> bytes)
    {
        var lengths = new List<int>();
        while (bytes.Length >= 5)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(bytes[3..]);
            lengths.Add(length);
            bytes = bytes[(5 + length)..];
        }

        Assert.Equal(0, bytes.Length);
        return lengths;
    }

    private static byte[] Pattern(int length) => Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

    [Theory]
    [InlineData(TlsVersion.Tls13)]
    [InlineData(TlsVersion.Tls12)]
    public void Both_sides_advertise_the_maximum_and_keep_full_size_records(TlsVersion version)
    {
        var pair = Pair(version);
        pair.Handshake();

        Assert.Equal(16384, pair.Client.Engine.MaxRecordPlaintext);
        Assert.Equal(16384, pair.Server.Engine.MaxRecordPlaintext);
        pair.Server.Write(Pattern(16384));
        Assert.Single(RecordLengths(pair.Server.Outbound.WrittenSpan));
    }

    [Fact]
    public void Tls13_server_shrinks_every_encrypted_record_to_a_small_client_limit_and_says_so()
    {
        var pair = Pair(TlsVersion.Tls13, clientLimit: 1000);
        EnginePair.Transfer(pair.Client, pair.Server);
        var flight = RecordLengths(pair.Server.Outbound.WrittenSpan);
        pair.Handshake();

        // ServerHello and the compatibility ChangeCipherSpec are plaintext; everything after is sealed.
        Assert.All(flight.Skip(2), length => Assert.InRange(length, 1, 512 + Tls13Overhead));
        Assert.True(flight.Count > 4, $"expected the certificate flight cut into records, got {flight.Count}");
        Assert.Equal(512, pair.Server.Engine.MaxRecordPlaintext);
        Assert.Equal(512, pair.Client.Engine.MaxRecordPlaintext);

        var data = Pattern(5000);
        pair.Server.Write(data);
        Assert.All(RecordLengths(pair.Server.Outbound.WrittenSpan), length => Assert.InRange(length, 1, 512 + Tls13Overhead));
        EnginePair.Transfer(pair.Server, pair.Client);
        Assert.Equal(data, pair.Client.TakeReceived());

        pair.Client.Write(data);
        Assert.All(RecordLengths(pair.Client.Outbound.WrittenSpan), length => Assert.InRange(length, 1, 512 + Tls13Overhead));
        EnginePair.Transfer(pair.Client, pair.Server);
        Assert.Equal(data, pair.Server.TakeReceived());
    }

    [Fact]
    public void Tls12_server_cuts_application_data_to_the_client_limit()
    {
        var pair = Pair(TlsVersion.Tls12, clientLimit: 100);
        pair.Handshake();

        Assert.Equal(100, pair.Server.Engine.MaxRecordPlaintext);
        var data = Pattern(1000);
        pair.Server.Write(data);
        var lengths = RecordLengths(pair.Server.Outbound.WrittenSpan);
        Assert.Equal(10, lengths.Count);
        Assert.All(lengths, length => Assert.Equal(100 + Tls12GcmOverhead, length));
        EnginePair.Transfer(pair.Server, pair.Client);
        Assert.Equal(data, pair.Client.TakeReceived());
    }

    [Fact]
    public void Tls13_client_limit_too_small_for_our_records_is_left_unanswered()
    {
        var pair = Pair(TlsVersion.Tls13, clientLimit: 300);
        pair.Handshake();

        // RFC 8449 §4: not answered means not negotiated; neither side limits the other.
        Assert.Equal(16384, pair.Server.Engine.MaxRecordPlaintext);
        Assert.Equal(16384, pair.Client.Engine.MaxRecordPlaintext);
    }

    [Theory]
    [InlineData(TlsVersion.Tls13)]
    [InlineData(TlsVersion.Tls12)]
    public void Limit_below_64_is_refused_with_illegal_parameter(TlsVersion version)
    {
        var pair = Pair(version, clientLimit: 63);
        pair.Pump();

        var error = pair.Server.Engine.Error!;
        Assert.Equal(TlsFault.Peer, error.Fault);
        Assert.Equal(TlsAlertDescription.IllegalParameter, error.Alert!.Value.Description);
        Assert.True(pair.Client.Engine.Error!.AlertFromPeer);
    }
}
