using Org.BouncyCastle.Tls;

namespace Apps.Tls.Engine;

/// <summary>Turns whatever BouncyCastle threw into a <see cref="TlsException"/> that says who is at fault.</summary>
internal static class TlsFailure
{
    public static TlsException Classify(Exception error, EngineContext context, bool isClient)
    {
        var peer = isClient ? "the server" : "the client";
        switch (error)
        {
            case TlsFatalAlertReceived received:
            {
                var alert = new TlsAlert(TlsAlertLevel.Fatal, (TlsAlertDescription)received.AlertDescription);
                return new TlsException(TlsFault.Peer, alert, true, $"{peer} ended the connection with the alert {alert}", error);
            }

            case TlsFatalAlert when context.Rejection is { } rejection:
                return rejection;

            case TlsFatalAlert fatal:
            {
                var alert = new TlsAlert(TlsAlertLevel.Fatal, (TlsAlertDescription)fatal.AlertDescription);
                var fault = fatal.AlertDescription switch
                {
                    // BouncyCastle reports a handshake message over our size limit as internal_error; the
                    // limit is ours but the oversized message is the peer's doing.
                    AlertDescription.internal_error when fatal.Message.Contains("exceeds the maximum", StringComparison.Ordinal)
                        => TlsFault.Peer,
                    AlertDescription.internal_error => TlsFault.Internal,
                    AlertDescription.handshake_failure when fatal is Platform.InvalidKeyShareAlert => TlsFault.Peer,
                    AlertDescription.handshake_failure or AlertDescription.protocol_version
                        or AlertDescription.insufficient_security or AlertDescription.no_application_protocol
                        => TlsFault.LocalPolicy,
                    _ => TlsFault.Peer,
                };
                var what = fault switch
                {
                    TlsFault.LocalPolicy => $"{peer} offered nothing our TLS policy accepts",
                    TlsFault.Internal => "the TLS engine failed internally",
                    _ => $"{peer} broke the TLS protocol",
                };
                var detail = string.IsNullOrEmpty(fatal.Message) ? string.Empty : $" ({fatal.Message})";
                return new TlsException(fault, alert, false, $"{what}; sent {alert}{detail}", error);
            }

            default:
                return new TlsException(TlsFault.Peer, null, false, $"{peer} sent data that is not valid TLS: {error.Message}", error);
        }
    }
}
