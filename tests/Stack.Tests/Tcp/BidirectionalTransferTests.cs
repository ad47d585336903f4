using Apps.Stack.Tcp;

namespace Apps.Stack.Tests.Tcp;

/// <summary>
/// Both sides send at once over a link with 5-20% loss, duplication and heavy reordering, for many
/// seeds and every option combination; each direction must arrive intact and both sides must close.
/// (This sweep found an ACK war after timeouts and RTO inflation from stale timestamp echoes.)
/// </summary>
public class BidirectionalTransferTests
{
    public static TheoryData<bool, bool, bool> OptionSets => new()
    {
        { true, true, true }, { false, false, false }, { true, false, true }, { false, true, false },
    };

    [Theory]
    [MemberData(nameof(OptionSets))]
    public void Both_directions_arrive_intact_across_seeds(bool sack, bool timestamps, bool windowScaling)
    {
        var failures = new List<string>();
        for (int seed = 100; seed < 160; seed++)
        {
            var settings = new TcpSettings
            {
                MinRto = TimeSpan.FromMilliseconds(200), SelectiveAck = sack, Timestamps = timestamps, WindowScaling = windowScaling,
                SendBufferSize = 64 * 1024, ReceiveBufferSize = windowScaling ? 128 * 1024 : 60000, NoDelay = seed % 2 == 0,
            };
            double loss = 0.05 + (seed % 4) * 0.05;
            var net = new TcpLinkSimulator(seed, settings) { Loss = loss, Duplication = 0.05, Reordering = 0.2 };
            var listener = net.B.Listen(80);
            var up = TcpLinkSimulator.Data(150_000 + seed * 37, seed);
            var down = TcpLinkSimulator.Data(90_000 + seed, seed + 1);
            var client = net.A.Connect(TcpLinkSimulator.AddressA, TcpLinkSimulator.AddressB, 80, net.Now);
            TcpControlBlock? server = null;
            int sentUp = 0, sentDown = 0;
            var gotUp = new MemoryStream();
            var gotDown = new MemoryStream();
            var buffer = new byte[70000];
            void Pump()
            {
                if (client.State is TcpState.Established or TcpState.CloseWait && sentUp < up.Length)
                {
                    sentUp += client.Send(up.AsSpan(sentUp, Math.Min(7000, up.Length - sentUp)));
                    if (sentUp == up.Length) client.Close();
                }
                server ??= listener.TryAccept();
                if (server is null) return;
                if (server.State is TcpState.Established or TcpState.CloseWait && sentDown < down.Length)
                {
                    sentDown += server.Send(down.AsSpan(sentDown, Math.Min(3000, down.Length - sentDown)));
                    if (sentDown == down.Length) server.Close();
                }
                int n;
                while ((n = server.Read(buffer)) > 0) gotUp.Write(buffer, 0, n);
                while ((n = client.Read(buffer)) > 0) gotDown.Write(buffer, 0, n);
            }
            bool done = net.RunUntil(
                () => gotUp.Length == up.Length && gotDown.Length == down.Length && client.PeerClosed && server!.PeerClosed
                    && client.State is TcpState.TimeWait or TcpState.Closed && server.State is TcpState.TimeWait or TcpState.Closed,
                TimeSpan.FromHours(1), Pump);
            if (!done || !gotUp.ToArray().AsSpan().SequenceEqual(up) || !gotDown.ToArray().AsSpan().SequenceEqual(down))
            {
                failures.Add($"seed {seed} loss {loss:P0}: up {gotUp.Length}/{up.Length}, down {gotDown.Length}/{down.Length}, " +
                    $"client {client.State}/{client.Error}, server {server?.State}/{server?.Error}");
            }
        }
        Assert.Empty(failures);
    }
}
