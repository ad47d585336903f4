namespace Apps.Stack;

/// <summary>An operation on the stack failed; <see cref="Reason"/> says why.</summary>
public sealed class NetworkStackException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NetworkStackException(DropReason reason, string message) : base(message) => Reason = reason;

    /// <summary>Why the packet could not be sent or the operation completed.</summary>
    public DropReason Reason { get; }

    internal static NetworkStackException SendFailed(DropReason reason, string what) => new(reason, reason switch
    {
        DropReason.NoRoute => $"cannot send {what}: no route (no address configured or no gateway); configure an address or wait for DHCP",
        DropReason.TooBig => $"cannot send {what}: larger than an IPv4 datagram can carry; send less data",
        _ => $"cannot send {what}: {reason}",
    });
}
