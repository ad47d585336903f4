using System.CommandLine;
using Apps.TrustStore.Policy;

namespace Apps.Tools.Trust.Commands;

/// <summary>The HOST[:PORT] argument most commands take, and the default ports of known services.</summary>
internal static class ServerArgument
{
    public static Argument<string> Create(string description) => new("HOST[:PORT]")
    {
        Description = description + ". IPv6 addresses in brackets: [::1]:443",
    };

    /// <summary>The well-known port of a service: https 443, xmpp-client 5222, xmpp-server 5269.</summary>
    public static int? DefaultPort(string service) => service switch
    {
        "https" => 443,
        "xmpp-client" => 5222,
        "xmpp-server" => 5269,
        _ => null,
    };

    /// <summary>The services whose names <c>trust policy</c> recognises without <c>--service</c>.</summary>
    public static bool IsKnownService(string name) => DefaultPort(name) is not null;

    public static (string Host, int? Port) Parse(string text) => HostPort.ParsePattern(text);
}
