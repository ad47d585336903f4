using Apps.Tls.Adapters;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;
using Apps.Tls.Verification;
using Microsoft.Extensions.Logging;

namespace Apps.Tls.Tests.Adapters;

public class TlsLogTests
{
    [Fact]
    public async Task Refused_handshake_is_logged_as_a_warning_with_its_fault()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        var logger = new ListLogger();
        var (clientEnd, serverEnd) = MemoryTransport.Pair();
        var server = TlsConnection.AcceptAsync(serverEnd, new TlsServerOptions
        {
            Credentials = new ServerCredentialSet(certificate.Credential), Random = TestRandom.Create(),
        });
        await Assert.ThrowsAsync<TlsCertificateRejectedException>(() => TlsConnection.ConnectAsync(clientEnd, new TlsClientOptions
        {
            ServerName = "localhost", Verifier = new FixedVerdictVerifier(VerificationFailure.NameMismatch), Random = TestRandom.Create(),
            Logger = logger,
        }));
        await Assert.ThrowsAsync<TlsException>(() => server);

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal(3002, entry.Id);
        Assert.Contains("LocalPolicy", entry.Message);
        Assert.Contains("NameMismatch", entry.Message);
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, int Id, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, eventId.Id, formatter(state, exception)));
    }
}
