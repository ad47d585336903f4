using Apps.Stack.Dhcp;
using Apps.Stack.Ip;
using Apps.Stack.Wire;

namespace Apps.Stack;

// The DHCP client's I/O: UDP port 68 in, 68 → 67 out, lease changes applied to the interface.
public sealed partial class NetworkStack
{
    /// <summary>UDP port of DHCP clients (RFC 2131 §4.1).</summary>
    public const ushort DhcpClientPort = 68;

    /// <summary>UDP port of DHCP servers.</summary>
    public const ushort DhcpServerPort = 67;

    private DhcpClient? _dhcp;
    private volatile DhcpLease? _lease;

    /// <summary>The DHCP lease, when the address came from DHCP.</summary>
    public DhcpLease? Lease => _lease;

    /// <summary>The DHCP client's state, or null when DHCP is off.</summary>
    public DhcpState? DhcpState => _dhcp?.State;

    private void StartDhcp(TimeSpan now)
    {
        var endpoint = new DhcpEndpoint(this);
        if (_ip.BindUdp(DhcpClientPort, endpoint) == 0)
            throw new InvalidOperationException("UDP port 68 is taken; DHCP cannot start");
        _dhcp = new DhcpClient(MacAddress, _options.RandomBytes, _options.HostName, endpoint);
        _ip.ProbeConflict = address => _dhcp.ConflictDetected(address, _loop.Now);
        _dhcp.Start(now);
    }

    private void PollDhcp(TimeSpan now)
    {
        if (_dhcp is { } dhcp && dhcp.NextDeadline <= now)
            dhcp.Poll(now);
    }

    private TimeSpan DhcpDeadline() => _dhcp?.NextDeadline ?? TimeSpan.MaxValue;

    private sealed class DhcpEndpoint(NetworkStack stack) : IUdpReceiver, IDhcpOutput
    {
        private readonly byte[] _buffer = new byte[1024];

        public void OnDatagram(Ipv4Address source, ushort sourcePort, Ipv4Address destination, ReadOnlySpan<byte> payload, TimeSpan now)
        {
            if (stack._dhcp is not { } dhcp || sourcePort != DhcpServerPort)
                return;
            var reason = dhcp.Receive(payload, now);
            if (reason is DropReason.Truncated or DropReason.Malformed)
                stack.Counters.CountDrop(reason);
        }

        public void OnUnreachable(Ipv4Address remote, ushort remotePort, byte code)
        {
        }

        public void Send(DhcpMessage message, Ipv4Address source, Ipv4Address destination)
        {
            int length = message.BufferLength;
            var bytes = length <= _buffer.Length ? _buffer.AsSpan(0, length) : new byte[length];
            message.Emit(bytes);
            stack._ip.SendUdp(DhcpClientPort, destination, DhcpServerPort, bytes, stack._loop.Now, source);
        }

        public void Probe(Ipv4Address? address) => stack._ip.Probe(address);

        public void LeaseChanged(DhcpLease? lease)
        {
            stack._lease = lease;
            if (lease is not null)
                StackLog.LeaseObtained(stack._logger, stack._options.Name, lease.Address, lease.Server, lease.LeaseTime);
            stack.Configure(lease?.ToSettings(), stack._loop.Now);
        }
    }
}
