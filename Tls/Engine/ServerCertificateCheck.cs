using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>
/// The client's hook on the server's Certificate message (RFC 8446 §4.4.2): run the verifier at the caller's
/// time, hand the verdict to the decision, and abort with the decision's alert when it refuses.
/// </summary>
internal sealed class ServerCertificateCheck : TlsAuthentication
{
    private readonly TlsClientOptions _options;
    private readonly EngineContext _engine;

    public ServerCertificateCheck(TlsClientOptions options, EngineContext engine)
    {
        _options = options;
        _engine = engine;
    }

    public void NotifyServerCertificate(TlsServerCertificate serverCertificate)
    {
        var certificate = serverCertificate.Certificate;

        // RFC 8446 §4.4.2.4: an empty server Certificate message aborts with decode_error.
        if (certificate is null || certificate.IsEmpty)
        {
            throw new TlsFatalAlert(AlertDescription.decode_error, "the server sent no certificate");
        }

        var chain = new byte[certificate.Length][];
        for (var i = 0; i < chain.Length; i++)
        {
            chain[i] = certificate.GetCertificateAt(i).GetEncoded();
        }

        var verdict = _options.Verifier.Verify(chain, _options.ServerName, _engine.CurrentTime);
        _engine.Verdict = verdict;
        var decision = _options.Decide(chain, verdict);
        if (decision.Accept)
        {
            return;
        }

        var alert = decision.Alert == TlsAlertDescription.CloseNotify ? TlsAlertDescription.BadCertificate : decision.Alert;
        var message = verdict.IsVerified
            ? $"the certificate of {_options.ServerName} verified but the certificate policy refused it"
            : verdict.Message;
        _engine.Rejection = new TlsCertificateRejectedException(verdict, new TlsAlert(TlsAlertLevel.Fatal, alert), message);
        throw new TlsFatalAlert((short)alert, message);
    }

    /// <summary>We have no client certificates: answer a CertificateRequest with an empty Certificate.</summary>
    public TlsCredentials? GetClientCredentials(CertificateRequest certificateRequest) => null;
}
