using Apps.Stack.Wire;
using Microsoft.Extensions.Logging;

namespace Apps.Stack;

/// <summary>Log events of the stack (fixed event ids, STYLE C.18).</summary>
internal static partial class StackLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Stack}: address {Settings} configured")]
    public static partial void AddressConfigured(ILogger logger, string stack, Ipv4Settings settings);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "{Stack}: address removed (DHCP lease lost); traffic stops until a new lease arrives")]
    public static partial void AddressRemoved(ILogger logger, string stack);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "{Stack}: DHCP lease {Address} from {Server} for {LeaseTime}")]
    public static partial void LeaseObtained(ILogger logger, string stack, Ipv4Address address, Ipv4Address server, TimeSpan leaseTime);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "{Stack}: a protocol core threw while handling a packet or command; it was dropped")]
    public static partial void CoreFailed(ILogger logger, string stack, Exception exception);
}
