namespace Apps.Tls.Engine;

/// <summary>Who caused a TLS failure (STYLE B.12).</summary>
public enum TlsFault
{
    /// <summary>The peer broke the protocol, sent malformed data, or sent a fatal alert.</summary>
    Peer,
    /// <summary>Our own policy refused the peer (its certificate, or nothing in common to negotiate).</summary>
    LocalPolicy,
    /// <summary>A bug or resource problem on our side (internal_error).</summary>
    Internal,
}

/// <summary>A TLS connection failed. <see cref="Fault"/> says whose fault it was; <see cref="Alert"/> is the
/// alert that ended the connection, and <see cref="AlertFromPeer"/> whether the peer sent it.</summary>
public class TlsException : Exception
{
    public TlsException(TlsFault fault, TlsAlert? alert, bool alertFromPeer, string message, Exception? inner = null)
        : base(message, inner)
    {
        Fault = fault;
        Alert = alert;
        AlertFromPeer = alertFromPeer;
    }

    public TlsFault Fault { get; }

    public TlsAlert? Alert { get; }

    public bool AlertFromPeer { get; }
}

/// <summary>The certificate decision refused the server's certificate; the verdict says why.</summary>
public sealed class TlsCertificateRejectedException : TlsException
{
    public TlsCertificateRejectedException(Verification.CertificateVerdict verdict, TlsAlert alert, string message)
        : base(TlsFault.LocalPolicy, alert, false, message)
    {
        Verdict = verdict;
    }

    public Verification.CertificateVerdict Verdict { get; }
}

/// <summary>The caller used the engine wrongly (wrote before the handshake, wrote after closing...).</summary>
public sealed class TlsApiMisuseException : InvalidOperationException
{
    public TlsApiMisuseException(string message) : base(message)
    {
    }
}
