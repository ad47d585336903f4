using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Apps.Tls.Tests.TestSupport;
using Apps.Tls.Verification;

namespace Apps.Tls.Tests.Engine;

public class CertificateDecisionTests
{
    [Theory]
    [InlineData(VerificationFailure.Expired, TlsAlertDescription.CertificateExpired)]
    [InlineData(VerificationFailure.NotYetValid, TlsAlertDescription.CertificateExpired)]
    [InlineData(VerificationFailure.UnknownIssuer, TlsAlertDescription.UnknownCa)]
    [InlineData(VerificationFailure.NameMismatch, TlsAlertDescription.BadCertificate)]
    [InlineData(VerificationFailure.BadSignature, TlsAlertDescription.BadCertificate)]
    [InlineData(VerificationFailure.WeakKey, TlsAlertDescription.UnsupportedCertificate)]
    public void Strict_default_aborts_with_the_alert_the_verdict_calls_for(VerificationFailure failure, TlsAlertDescription alert)
    {
        foreach (var version in new[] { TlsVersion.Tls13, TlsVersion.Tls12 })
        {
            var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256),
                client: c => new TlsClientOptions
                {
                    ServerName = "localhost", Verifier = new FixedVerdictVerifier(failure), Random = c.Random, OnlyVersion = version,
                });
            pair.Pump();

            var rejected = Assert.IsType<TlsCertificateRejectedException>(pair.Client.Engine.Error);
            Assert.Equal(failure, rejected.Verdict.Failure);
            Assert.Equal(alert, rejected.Alert!.Value.Description);
            Assert.Equal(TlsFault.LocalPolicy, rejected.Fault);
            Assert.Contains("localhost", rejected.Message);

            var server = pair.Server.Engine.Error!;
            Assert.True(server.AlertFromPeer);
            Assert.Equal(alert, server.Alert!.Value.Description);
        }
    }

    [Fact]
    public void Decider_may_accept_an_unverified_chain_and_sees_chain_and_verdict()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        IReadOnlyList<byte[]>? seenChain = null;
        CertificateVerdict? seenVerdict = null;
        var pair = EnginePair.Create(certificate, client: c => new TlsClientOptions
        {
            ServerName = "localhost",
            Verifier = new FixedVerdictVerifier(VerificationFailure.UnknownIssuer),
            Random = c.Random,
            Decide = (chain, verdict) =>
            {
                seenChain = chain;
                seenVerdict = verdict;
                return CertificateDecision.Accepted;
            },
        });

        pair.Handshake();

        Assert.Equal(certificate.Der, Assert.Single(seenChain!));
        Assert.Equal(VerificationFailure.UnknownIssuer, seenVerdict!.Failure);
        Assert.False(pair.Client.Engine.Connection!.Verdict!.IsVerified);
    }

    [Fact]
    public void Decider_may_refuse_a_verified_chain_with_its_own_alert()
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256), client: c => new TlsClientOptions
        {
            ServerName = "localhost",
            Verifier = c.Verifier,
            Random = c.Random,
            Decide = (_, _) => CertificateDecision.Abort(TlsAlertDescription.AccessDenied),
        });
        pair.Pump();
        Assert.Equal(TlsAlertDescription.AccessDenied, pair.Server.Engine.Error!.Alert!.Value.Description);
    }

    [Fact]
    public void Verifier_is_asked_for_the_server_name_at_the_callers_time()
    {
        var certificate = TestPki.Get(ServerKeyType.EcdsaP256);
        var verifier = new ExpectedKeyVerifier(certificate);
        var pair = EnginePair.Create(certificate, client: c => new TlsClientOptions
        {
            ServerName = "localhost", Verifier = verifier, Random = c.Random,
        });
        var later = TestPki.Now.AddYears(3);
        pair.Client.Now = later;
        pair.Handshake();

        var call = Assert.Single(verifier.Calls);
        Assert.Equal("localhost", call.ServerName);
        Assert.Equal(later, call.Now);
    }

    [Fact]
    public void Certificate_from_an_unexpected_key_is_refused_as_unknown_ca()
    {
        var pair = EnginePair.Create(TestPki.Get(ServerKeyType.EcdsaP256), client: c => new TlsClientOptions
        {
            ServerName = "localhost", Verifier = new ExpectedKeyVerifier(TestPki.Get(ServerKeyType.Rsa)), Random = c.Random,
        });
        pair.Pump();
        Assert.Equal(TlsAlertDescription.UnknownCa, pair.Client.Engine.Error!.Alert!.Value.Description);
        Assert.Null(pair.Server.Engine.Connection);
    }
}
