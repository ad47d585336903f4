using Apps.Stack.Wire;

namespace Apps.Stack.Dhcp;

/// <summary>States of the DHCP client (RFC 2131 §4.4, Figure 5), named for what each waits for.</summary>
public enum DhcpState
{
    /// <summary>Not started.</summary>
    Init,
    /// <summary>DISCOVER sent; waiting for an OFFER.</summary>
    Selecting,
    /// <summary>REQUEST sent for an offer; waiting for ACK or NAK.</summary>
    Requesting,
    /// <summary>
    /// ACK received; ARP-probing the address before using it (RFC 2131 §4.4.1, RFC 5227 §2.1). A conflict
    /// sends DHCPDECLINE and restarts after ten seconds (RFC 2131 §3.1 step 5).
    /// </summary>
    CheckingAddress,
    /// <summary>Holding a lease; waiting for T1.</summary>
    Bound,
    /// <summary>T1 passed; unicast REQUEST to our server, waiting for ACK until T2.</summary>
    Renewing,
    /// <summary>T2 passed; broadcast REQUEST to any server, waiting for ACK until the lease expires.</summary>
    Rebinding,
}

/// <summary>Where the DHCP client's output goes (the stack sends it as UDP 68 → 67).</summary>
internal interface IDhcpOutput
{
    /// <summary>Sends a message from <paramref name="source"/> (0.0.0.0 before we have a lease).</summary>
    void Send(DhcpMessage message, Ipv4Address source, Ipv4Address destination);

    /// <summary>The lease was obtained, renewed with changes, or lost (null).</summary>
    void LeaseChanged(DhcpLease? lease);

    /// <summary>
    /// Sends an ARP probe for <paramref name="address"/> (sender address 0.0.0.0, RFC 5227 §2.1.1) and
    /// watches for conflicts until called with null; a conflict is reported through
    /// <see cref="DhcpClient.ConflictDetected"/>.
    /// </summary>
    void Probe(Ipv4Address? address);
}

/// <summary>
/// A sans-IO DHCPv4 client (RFC 2131 §4.4): discover, offer, request, ack; renew at T1 (unicast),
/// rebind at T2 (broadcast), expiry. Messages and <c>now</c> in; messages and lease changes out through
/// <see cref="IDhcpOutput"/>; <see cref="NextDeadline"/> says when to <see cref="Poll"/>.
/// </summary>
/// <remarks>
/// Retransmission (RFC 2131 §4.1): 4 s doubling to 64 s, randomized by ±1 s, while selecting or
/// requesting (a request unanswered after 4 tries restarts discovery); while renewing or rebinding,
/// half the time left until T2 or expiry, but at least 60 s. Replies are matched on xid and chaddr.
/// </remarks>
internal sealed class DhcpClient
{
    /// <summary>Options requested from the server (option 55).</summary>
    private static readonly byte[] RequestedOptions = [1, 3, 6, 51, 58, 59];

    private const int MaxRequestAttempts = 4;

    /// <summary>Probes sent for an acknowledged address, one second apart (RFC 5227 uses 3 over 1-2 s each; we keep 2).</summary>
    public const int ProbeCount = 2;

    /// <summary>Interval between probes, and the wait after the last one.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);

    /// <summary>Wait after a DHCPDECLINE before discovering again (RFC 2131 §3.1 step 5).</summary>
    public static readonly TimeSpan DeclineBackoff = TimeSpan.FromSeconds(10);

    private readonly MacAddress _mac;
    private readonly Action<Span<byte>> _random;
    private readonly string? _hostName;
    private readonly IDhcpOutput _output;
    private uint _xid;
    private TimeSpan _exchangeStarted;
    private TimeSpan _retransmitAt = TimeSpan.MaxValue;
    private TimeSpan _interval;
    private int _attempts;
    private DhcpMessage? _offer;
    private TimeSpan _leaseStart;
    private DhcpLease? _checking;
    private int _probesSent;

    public DhcpClient(MacAddress mac, Action<Span<byte>> random, string? hostName, IDhcpOutput output)
    {
        _mac = mac;
        _random = random;
        _hostName = hostName;
        _output = output;
    }

    /// <summary>Where the client is in RFC 2131 Figure 5.</summary>
    public DhcpState State { get; private set; } = DhcpState.Init;

    /// <summary>The current lease, or null.</summary>
    public DhcpLease? Lease { get; private set; }

    /// <summary>When <see cref="Poll"/> next has work.</summary>
    public TimeSpan NextDeadline
    {
        get
        {
            if (Lease is not { } lease)
                return _retransmitAt;
            var phase = State switch
            {
                DhcpState.Bound => _leaseStart + lease.RenewalTime,
                DhcpState.Renewing => _leaseStart + lease.RebindingTime,
                _ => _leaseStart + lease.LeaseTime,
            };
            return phase < _retransmitAt ? phase : _retransmitAt;
        }
    }

    /// <summary>Begins acquisition: INIT → SELECTING with a DISCOVER.</summary>
    public void Start(TimeSpan now) => Discover(now);

    /// <summary>Handles a message received on UDP port 68.</summary>
    /// <returns>Why it was ignored, or <see cref="DropReason.None"/>.</returns>
    public DropReason Receive(ReadOnlySpan<byte> payload, TimeSpan now)
    {
        if (!DhcpMessage.TryParse(payload, out var m, out var reason))
            return reason;
        if (m.Op != 2 || m.TransactionId != _xid || m.ClientHardware != _mac)
            return DropReason.NotForUs;
        switch (State, m.MessageType)
        {
            case (DhcpState.Selecting, DhcpMessageType.Offer) when m.ServerIdentifier is not null && !m.YourAddress.IsAny:
                _offer = m;
                State = DhcpState.Requesting;
                _attempts = 0;
                _interval = TimeSpan.FromSeconds(4);
                SendRequest(now);
                return DropReason.None;
            case (DhcpState.Requesting or DhcpState.Renewing or DhcpState.Rebinding, DhcpMessageType.Ack):
                var server = m.ServerIdentifier ?? _offer?.ServerIdentifier ?? Lease?.Server;
                if (server is null || DhcpLease.FromAck(m, server.Value) is not { } lease)
                    return DropReason.Malformed;
                if (State == DhcpState.Requesting)
                {
                    // RFC 2131 §4.4.1: probe the new address before using it.
                    _checking = lease;
                    State = DhcpState.CheckingAddress;
                    _probesSent = 1;
                    _output.Probe(lease.Address);
                    _retransmitAt = now + ProbeInterval;
                    return DropReason.None;
                }
                Lease = lease;
                // RFC 2131 §4.4.5: times run from when the request was sent; we use the exchange start.
                _leaseStart = _exchangeStarted;
                State = DhcpState.Bound;
                _retransmitAt = TimeSpan.MaxValue;
                _output.LeaseChanged(lease);
                return DropReason.None;
            case (DhcpState.Requesting or DhcpState.Renewing or DhcpState.Rebinding, DhcpMessageType.Nak):
                // RFC 2131 §4.4.1/§4.4.5: a NAK sends the client back to INIT.
                LoseLease();
                Discover(now);
                return DropReason.None;
            default:
                return DropReason.Unsupported;
        }
    }

    /// <summary>Runs retransmissions and the T1, T2 and expiry transitions that are due.</summary>
    public void Poll(TimeSpan now)
    {
        if (Lease is { } lease)
        {
            if (now >= _leaseStart + lease.LeaseTime)
            {
                LoseLease();
                Discover(now);
                return;
            }
            if (State == DhcpState.Bound && now >= _leaseStart + lease.RenewalTime)
            {
                State = DhcpState.Renewing;
                BeginExchange(now, newXid: true);
                SendRequest(now);
                return;
            }
            if (State == DhcpState.Renewing && now >= _leaseStart + lease.RebindingTime)
            {
                State = DhcpState.Rebinding;
                SendRequest(now);
                return;
            }
        }
        if (now < _retransmitAt)
            return;
        switch (State)
        {
            case DhcpState.Init:
                Discover(now);
                break;
            case DhcpState.CheckingAddress when _probesSent < ProbeCount:
                _probesSent++;
                _output.Probe(_checking!.Address);
                _retransmitAt = now + ProbeInterval;
                break;
            case DhcpState.CheckingAddress:
                _output.Probe(null);
                Lease = _checking;
                _checking = null;
                // RFC 2131 §4.4.5: times run from when the request was sent; we use the exchange start.
                _leaseStart = _exchangeStarted;
                State = DhcpState.Bound;
                _retransmitAt = TimeSpan.MaxValue;
                _output.LeaseChanged(Lease);
                break;
            case DhcpState.Selecting:
                SendDiscover(now);
                break;
            case DhcpState.Requesting when _attempts >= MaxRequestAttempts:
                Discover(now);
                break;
            case DhcpState.Requesting or DhcpState.Renewing or DhcpState.Rebinding:
                SendRequest(now);
                break;
        }
    }

    /// <summary>
    /// The interface saw another host using the address being probed: decline it (RFC 2131 §4.4.1) and
    /// start over after <see cref="DeclineBackoff"/>.
    /// </summary>
    public void ConflictDetected(Ipv4Address address, TimeSpan now)
    {
        if (State != DhcpState.CheckingAddress || _checking is not { } lease || lease.Address != address)
            return;
        _output.Probe(null);
        _output.Send(NewMessage(DhcpMessageType.Decline, now) with
        {
            RequestedAddress = lease.Address,
            ServerIdentifier = lease.Server,
            HostName = null,
            ParameterRequestList = null,
        }, Ipv4Address.Any, Ipv4Address.Broadcast);
        _checking = null;
        State = DhcpState.Init;
        _retransmitAt = now + DeclineBackoff;
    }

    /// <summary>
    /// Gives the lease back (RFC 2131 §4.4.6: DHCPRELEASE unicast to the server, ciaddr set) and stops.
    /// Returns whether a message was sent.
    /// </summary>
    public bool Release(TimeSpan now)
    {
        if (Lease is not { } lease || State is not (DhcpState.Bound or DhcpState.Renewing or DhcpState.Rebinding))
            return false;
        BeginExchange(now, newXid: true);
        _output.Send(NewMessage(DhcpMessageType.Release, now) with
        {
            ClientAddress = lease.Address,
            ServerIdentifier = lease.Server,
            HostName = null,
            ParameterRequestList = null,
        }, lease.Address, lease.Server);
        Lease = null;
        State = DhcpState.Init;
        _retransmitAt = TimeSpan.MaxValue;
        return true;
    }

    private void LoseLease()
    {
        if (Lease is null)
            return;
        Lease = null;
        _output.LeaseChanged(null);
    }

    private void Discover(TimeSpan now)
    {
        State = DhcpState.Selecting;
        _offer = null;
        BeginExchange(now, newXid: true);
        _interval = TimeSpan.FromSeconds(4);
        SendDiscover(now);
    }

    private void BeginExchange(TimeSpan now, bool newXid)
    {
        if (newXid)
        {
            Span<byte> r = stackalloc byte[4];
            _random(r);
            _xid = BitConverter.ToUInt32(r);
        }
        _exchangeStarted = now;
        _attempts = 0;
    }

    private DhcpMessage NewMessage(DhcpMessageType type, TimeSpan now) => new()
    {
        Op = 1,
        TransactionId = _xid,
        Seconds = (ushort)Math.Min(ushort.MaxValue, (now - _exchangeStarted).TotalSeconds),
        ClientHardware = _mac,
        MessageType = type,
        HostName = _hostName,
        ParameterRequestList = RequestedOptions,
    };

    private void SendDiscover(TimeSpan now)
    {
        _output.Send(NewMessage(DhcpMessageType.Discover, now) with { Broadcast = true }, Ipv4Address.Any, Ipv4Address.Broadcast);
        ScheduleBackoff(now);
    }

    // RFC 2131 §4.3.2 / Table 5: which fields a REQUEST carries in each state.
    private void SendRequest(TimeSpan now)
    {
        _attempts++;
        var request = NewMessage(DhcpMessageType.Request, now);
        switch (State)
        {
            case DhcpState.Requesting:
                _output.Send(request with { Broadcast = true, RequestedAddress = _offer!.YourAddress, ServerIdentifier = _offer.ServerIdentifier },
                    Ipv4Address.Any, Ipv4Address.Broadcast);
                ScheduleBackoff(now);
                break;
            case DhcpState.Renewing:
                _output.Send(request with { ClientAddress = Lease!.Address }, Lease.Address, Lease.Server);
                ScheduleHalfway(now, _leaseStart + Lease.RebindingTime);
                break;
            case DhcpState.Rebinding:
                _output.Send(request with { ClientAddress = Lease!.Address, Broadcast = true }, Lease.Address, Ipv4Address.Broadcast);
                ScheduleHalfway(now, _leaseStart + Lease.LeaseTime);
                break;
        }
    }

    // RFC 2131 §4.1: 4, 8, 16, 32, 64, 64... seconds, each ±1 s.
    private void ScheduleBackoff(TimeSpan now)
    {
        Span<byte> r = stackalloc byte[2];
        _random(r);
        var jitter = TimeSpan.FromMilliseconds((r[0] << 8 | r[1]) % 2001 - 1000);
        _retransmitAt = now + _interval + jitter;
        if (_interval < TimeSpan.FromSeconds(64))
            _interval *= 2;
    }

    // RFC 2131 §4.4.5: wait half the remaining time, down to a minimum of 60 seconds.
    private void ScheduleHalfway(TimeSpan now, TimeSpan until)
    {
        var half = (until - now) / 2;
        _retransmitAt = now + (half < TimeSpan.FromSeconds(60) ? TimeSpan.FromSeconds(60) : half);
    }
}
