using Apps.Tls.Engine;

namespace Apps.Tls.Tests.Engine;

/// <summary>The client's workaround that takes record_size_limit out of a TLS 1.3 EncryptedExtensions body.</summary>
public class EncryptedExtensionsFilterTests
{
    // extensions<0..2^16-1>: ALPN "h2" (16), record_size_limit 513 (28).
    private static readonly byte[] Body =
    [
        0x00, 0x0F,
        0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, (byte)'h', (byte)'2',
        0x00, 0x1C, 0x00, 0x02, 0x02, 0x01,
    ];

    [Fact]
    public void Record_size_limit_is_taken_out_and_the_rest_kept()
    {
        var (body, limit) = EncryptedExtensionsFilter.TakeRecordSizeLimit(Body);

        Assert.Equal(new byte[] { 0x02, 0x01 }, limit);
        Assert.Equal(new byte[] { 0x00, 0x09, 0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, (byte)'h', (byte)'2' }, body);
    }

    [Fact]
    public void Body_without_the_extension_is_returned_as_it_is()
    {
        byte[] alpnOnly = [0x00, 0x09, 0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, (byte)'h', (byte)'2'];

        var (body, limit) = EncryptedExtensionsFilter.TakeRecordSizeLimit(alpnOnly);

        Assert.Same(alpnOnly, body);
        Assert.Null(limit);
    }

    [Fact]
    public void Truncated_bodies_and_repeated_extensions_are_left_for_bouncycastle_to_refuse()
    {
        for (var length = 0; length < Body.Length; length++)
        {
            var truncated = Body[..length];
            var (body, limit) = EncryptedExtensionsFilter.TakeRecordSizeLimit(truncated);
            Assert.Same(truncated, body);
            Assert.Null(limit);
        }

        byte[] repeated = [0x00, 0x0C, 0x00, 0x1C, 0x00, 0x02, 0x02, 0x01, 0x00, 0x1C, 0x00, 0x02, 0x02, 0x01];
        Assert.Same(repeated, EncryptedExtensionsFilter.TakeRecordSizeLimit(repeated).Body);
    }
}
