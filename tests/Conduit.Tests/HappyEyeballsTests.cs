using System.Net;
using System.Net.Sockets;
using Apps.Conduit.Endpoints;
using Apps.Conduit.Transports;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Conduit.Tests;

/// <summary>
/// RFC 8305 racing for real: host sockets made inside a network namespace the test creates, where nftables drops
/// the SYNs to one address family so that its connect hangs as it would on a broken network. Time is virtual, so
/// the attempt and resolution delays pass only when the test says so; names resolve through answers the test
/// releases per family.
/// </summary>
public sealed class HappyEyeballsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private sealed class Answers
    {
        public TaskCompletionSource<IPAddress[]> V6 { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<IPAddress[]> V4 { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<IPAddress[]> Resolve(string host, AddressFamily family, CancellationToken cancellationToken) =>
            (family == AddressFamily.InterNetworkV6 ? V6 : V4).Task.WaitAsync(cancellationToken);
    }

    private static (ConduitNetwork Network, HostSocketTransport Transport) Network(SocketNamespace ns, FakeTimeProvider time, Answers answers)
    {
        var transport = new HostSocketTransport(time, ns.Create, answers.Resolve);
        return (new ConduitNetwork(new ConduitOptions { Transport = transport, Time = time }), transport);
    }

    /// <summary>Waits (in real time, generously) for something the code under test does on its own.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"gave up waiting for {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Advances virtual time by <paramref name="step"/> until <paramref name="done"/> holds. Repeating covers a
    /// timer registered just after an advance; each step is far below the 30 s connect timeout.</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, TimeSpan step, Func<bool> done, string what)
    {
        for (var i = 0; !done(); i++)
        {
            Assert.True(i < 40, $"virtual time ran {i} steps of {step.TotalMilliseconds} ms without {what}");
            time.Advance(step);
            await Task.Delay(50);
        }
    }

    private static async Task<bool> HasSynSentAsync(SocketNamespace ns) => (await ns.SynSentAsync()).Length > 0;

    [Fact]
    public async Task Blackholed_ipv6_loses_to_ipv4_after_the_attempt_delay_and_is_closed()
    {
        using var spans = new SpanRecorder();
        await using var ns = await SocketNamespace.CreateAsync();
        var time = new FakeTimeProvider();
        var answers = new Answers();
        var (network, _) = Network(ns, time, answers);
        await using var _ = network;
        await using var listener = await network.ListenAsync(new IPEndPoint(IPAddress.Loopback, 0));
        var port = listener.LocalEndPoint.Port;
        await ns.BlackholeAsync("::1", port);
        answers.V6.SetResult([IPAddress.IPv6Loopback]);
        answers.V4.SetResult([IPAddress.Loopback]);

        var connecting = network.ConnectAsync(ConduitEndpoint.Parse($"tcp://dual.test:{port}"));
        await WaitUntilAsync(() => HasSynSentAsync(ns), "the IPv6 SYN");
        var attemptsBeforeDelay = ns.Created.Count - 1;
        var completedBeforeDelay = connecting.IsCompleted;
        await AdvanceUntilAsync(time, HappyEyeballs.ConnectionAttemptDelay, () => connecting.IsCompleted, "a connection");
        await using var connection = await connecting;
        await using var accepted = await listener.AcceptAsync().AsTask().WaitAsync(Patience);

        Assert.Equal(1, attemptsBeforeDelay);
        Assert.False(completedBeforeDelay);
        Assert.Equal(IPAddress.Loopback, ((IPEndPoint)connection.RemoteEndPoint!).Address);
        Assert.Equal([AddressFamily.InterNetworkV6, AddressFamily.InterNetwork], ns.Created.Skip(1).Select(s => s.AddressFamily));
        Assert.True(ns.Created[1].SafeHandle.IsClosed, "the losing IPv6 attempt was left open");
        Assert.Equal("", await ns.SynSentAsync());
        var span = spans.Single("conduit.connect", "endpoint", $"tcp://dual.test:{port}");
        Assert.Equal(
            ["conduit.attempt ::1", "conduit.attempt 127.0.0.1", "conduit.attempt_failed ::1"],
            span.Events.Select(e => $"{e.Name} {e.Tags.First(t => t.Key == "address").Value}"));
    }

    [Fact]
    public async Task Late_aaaa_joins_the_race_and_wins_over_a_blackholed_ipv4_started_after_the_resolution_delay()
    {
        await using var ns = await SocketNamespace.CreateAsync();
        var time = new FakeTimeProvider();
        var answers = new Answers();
        var (network, _) = Network(ns, time, answers);
        await using var _ = network;
        await using var listener = await network.ListenAsync(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        var port = listener.LocalEndPoint.Port;
        await ns.BlackholeAsync("127.0.0.1", port);
        answers.V4.SetResult([IPAddress.Loopback]);

        var connecting = network.ConnectAsync(ConduitEndpoint.Parse($"tcp://dual.test:{port}"));
        await AdvanceUntilAsync(time, HappyEyeballs.ResolutionDelay, () => ns.Created.Count == 2, "the IPv4 attempt once AAAA is late");
        await WaitUntilAsync(() => HasSynSentAsync(ns), "the IPv4 SYN");
        answers.V6.SetResult([IPAddress.IPv6Loopback]);
        await AdvanceUntilAsync(time, HappyEyeballs.ConnectionAttemptDelay, () => connecting.IsCompleted, "a connection");
        await using var connection = await connecting;
        await using var accepted = await listener.AcceptAsync().AsTask().WaitAsync(Patience);

        Assert.Equal(IPAddress.IPv6Loopback, ((IPEndPoint)connection.RemoteEndPoint!).Address);
        Assert.Equal([AddressFamily.InterNetwork, AddressFamily.InterNetworkV6], ns.Created.Skip(1).Select(s => s.AddressFamily));
        Assert.True(ns.Created[1].SafeHandle.IsClosed, "the losing IPv4 attempt was left open");
        Assert.Equal("", await ns.SynSentAsync());
    }

    [Fact]
    public async Task Aaaa_arriving_within_the_resolution_delay_goes_first_and_alone_when_it_answers()
    {
        await using var ns = await SocketNamespace.CreateAsync();
        var time = new FakeTimeProvider();
        var answers = new Answers();
        var (network, _) = Network(ns, time, answers);
        await using var _ = network;
        await using var v6Listener = await network.ListenAsync(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        var port = v6Listener.LocalEndPoint.Port;
        await using var v4Listener = await network.ListenAsync(new IPEndPoint(IPAddress.Loopback, port));
        var listeners = ns.Created.Count;
        answers.V4.SetResult([IPAddress.Loopback]);

        var connecting = network.ConnectAsync(ConduitEndpoint.Parse($"tcp://dual.test:{port}"));
        await Task.Delay(200);
        var attemptsBeforeAaaa = ns.Created.Count - listeners;
        answers.V6.SetResult([IPAddress.IPv6Loopback]);
        await using var connection = await connecting.WaitAsync(Patience);

        Assert.Equal(0, attemptsBeforeAaaa);
        Assert.Equal(IPAddress.IPv6Loopback, ((IPEndPoint)connection.RemoteEndPoint!).Address);
        Assert.Equal(listeners + 1, ns.Created.Count);
    }

    [Fact]
    public async Task Connect_timeout_ends_a_hanging_attempt_with_a_one_line_reason_and_closes_it()
    {
        await using var ns = await SocketNamespace.CreateAsync();
        var time = new FakeTimeProvider();
        var (network, _) = Network(ns, time, new Answers());
        await using var _ = network;
        await ns.BlackholeAsync("::1", 4242);

        var connecting = network.ConnectAsync(ConduitEndpoint.Parse("tcp://[::1]:4242"));
        await WaitUntilAsync(() => HasSynSentAsync(ns), "the SYN");
        time.Advance(new ConduitOptions().ConnectTimeout);
        var failure = await Assert.ThrowsAsync<ConduitException>(() => connecting.WaitAsync(Patience));

        Assert.Contains("within 30s", failure.Message);
        Assert.DoesNotContain("\n", failure.Message);
        Assert.True(ns.Created.Single().SafeHandle.IsClosed);
        Assert.Equal("", await ns.SynSentAsync());
    }

    [Fact]
    public async Task Cancellation_ends_every_attempt_and_closes_its_sockets()
    {
        await using var ns = await SocketNamespace.CreateAsync();
        var time = new FakeTimeProvider();
        var answers = new Answers();
        var (network, _) = Network(ns, time, answers);
        await using var _ = network;
        await ns.BlackholeAsync("::1", 4242);
        await ns.BlackholeAsync("127.0.0.1", 4242);
        answers.V6.SetResult([IPAddress.IPv6Loopback]);
        answers.V4.SetResult([IPAddress.Loopback]);
        using var cancel = new CancellationTokenSource();

        var connecting = network.ConnectAsync(ConduitEndpoint.Parse("tcp://dual.test:4242"), cancellationToken: cancel.Token);
        await AdvanceUntilAsync(time, HappyEyeballs.ConnectionAttemptDelay, () => ns.Created.Count == 2, "both attempts");
        await WaitUntilAsync(async () => (await ns.SynSentAsync()).Split('\n').Length == 2, "both SYNs");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting.WaitAsync(Patience));
        Assert.All(ns.Created, s => Assert.True(s.SafeHandle.IsClosed));
        Assert.Equal("", await ns.SynSentAsync());
    }
}
