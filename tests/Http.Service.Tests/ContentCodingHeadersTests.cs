using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;

namespace Apps.Http.Service.Tests;

/// <summary>If-None-Match is compared weakly (RFC 9110 §13.1.2) by passing weak tags on as their strong selves.</summary>
public sealed class ContentCodingHeadersTests
{
    private static string Passed(string ifNoneMatch)
    {
        using var services = new ServiceCollection().AddLogging().AddResponseCompression().BuildServiceProvider();
        var context = new DefaultHttpContext();
        context.Request.Headers.IfNoneMatch = ifNoneMatch;
        ContentCodingHeaders.Register(context, services.GetRequiredService<IResponseCompressionProvider>(), acceptsCoding: false);
        return context.Request.Headers.IfNoneMatch.ToString();
    }

    [Theory]
    [InlineData("W/\"1dd8\"", "\"1dd8\"")]
    [InlineData("W/\"a\", \"b\"", "\"a\", \"b\"")]
    [InlineData("\"aW/b\", W/\"c,d\"", "\"aW/b\", \"c,d\"")] // "W/" and commas inside opaque tags stay as they are
    [InlineData("*", "*")]
    [InlineData("\"strong\"", "\"strong\"")]
    public void Weak_tags_are_passed_on_strong_and_opaque_tags_are_left_whole(string sent, string passed) =>
        Assert.Equal(passed, Passed(sent));

    [Theory]
    [InlineData("W/unquoted")]
    [InlineData("W/\"open")]
    public void A_malformed_header_is_left_for_the_static_file_middleware_to_refuse(string sent) =>
        Assert.Equal(sent, Passed(sent));
}
