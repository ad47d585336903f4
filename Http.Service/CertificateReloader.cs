using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Apps.Conduit.Kestrel;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Microsoft.Extensions.Logging;
using Org.BouncyCastle.Security;

namespace Apps.Http.Service;

/// <summary>
/// Serves the certificate of the moment: on SIGHUP (what a renewal hook sends, by <c>kill -HUP</c> or
/// <c>systemctl reload</c>, as to nginx) it reads the certificate and key files again, and new handshakes present the
/// new pair while connections already established keep theirs. A pair that cannot serve (unreadable, malformed, a key
/// that is not the certificate's, a leaf outside its validity period) is refused with its reason, and the pair
/// being served stays. It also looks at the certificate's expiry at start and every <see cref="CheckEvery"/>: the
/// appliance's own certificate is renewed with its key <see cref="ServiceIdentity.RenewBefore"/> ahead; a given one is
/// warned about from <see cref="WarnBefore"/> ahead, since only its owner can renew it.
/// </summary>
internal sealed class CertificateReloader : IDisposable
{
    /// <summary>How often the expiry is looked at.</summary>
    public static readonly TimeSpan CheckEvery = TimeSpan.FromHours(12);

    /// <summary>A given certificate this close to its end is warned about at every check.</summary>
    public static readonly TimeSpan WarnBefore = TimeSpan.FromDays(14);

    private readonly EngineTlsServerSettings? _tls;
    private readonly Func<ServerCredential, TlsServerOptions> _options;
    private readonly TimeProvider _time;
    private readonly SecureRandom _random;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private volatile ServiceIdentity _current;
    private PosixSignalRegistration? _hangup;
    private ITimer? _expiryCheck;

    /// <param name="identity">The pair the service started with; a reload reads its files again.</param>
    /// <param name="tls">The settings our TLS engine serves with; null when Kestrel's own TLS serves (the benchmark's
    /// anchor), which takes its certificate once.</param>
    /// <param name="options">Makes the engine's options around a credential; everything but the credential must be
    /// shared between calls (the session cache, the ticket keys).</param>
    /// <param name="time">The clock a new leaf's validity period is checked against, and the expiry check's timer.</param>
    /// <param name="random">Randomness for renewing the appliance's own certificate (Fortuna).</param>
    /// <param name="logger">Says what each reload did.</param>
    public CertificateReloader(ServiceIdentity identity, EngineTlsServerSettings? tls, Func<ServerCredential, TlsServerOptions> options,
        TimeProvider time, SecureRandom random, ILogger logger)
    {
        _current = identity;
        _tls = tls;
        _options = options;
        _time = time;
        _random = random;
        _logger = logger;
    }

    /// <summary>The pair new handshakes get.</summary>
    public ServiceIdentity Current => _current;

    /// <summary>When the pair being served was loaded by a reload; null while it is the one the service started with.</summary>
    public DateTimeOffset? ReloadedAt { get; private set; }

    /// <summary>Reloads on every SIGHUP from now on (the signal would otherwise end the process).</summary>
    public void ReloadOnHangup()
    {
        _hangup ??= PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Reload();
        });
    }

    /// <summary>Looks at the expiry now and every <see cref="CheckEvery"/> from now on.</summary>
    public void CheckExpiry()
    {
        CheckExpiryNow();
        _expiryCheck ??= _time.CreateTimer(static state => ((CertificateReloader)state!).CheckExpiryNow(), this, CheckEvery, CheckEvery);
    }

    private void CheckExpiryNow()
    {
        var current = _current;
        var left = current.NotAfter - _time.GetUtcNow();
        if (current.SelfSigned && left <= ServiceIdentity.RenewBefore)
        {
            Reload();
        }
        else if (!current.SelfSigned && left <= WarnBefore)
        {
            ServiceLog.CertificateExpiring(_logger, current.CertificatePath, current.NotAfter, current.Fingerprint.ToString());
        }
    }

    /// <summary>Reads the files again and serves them if they can serve; says which in the log.</summary>
    /// <returns>Whether new handshakes now get the files' pair.</returns>
    public bool Reload()
    {
        lock (_gate)
        {
            var current = _current;
            if (_tls is null)
            {
                ServiceLog.CertificateReloadRefused(_logger, current.CertificatePath,
                    "--tls-engine sslstream (the benchmark anchor) takes its certificate once; restart it instead", current.Fingerprint.ToString());
                return false;
            }

            ServiceIdentity next;
            try
            {
                next = current.Reread(_time.GetUtcNow(), _random);
            }
            catch (Exception e) when (e is TlsCredentialException or CryptographicException)
            {
                ServiceLog.CertificateReloadRefused(_logger, current.CertificatePath, e.Message.TrimEnd('.'), current.Fingerprint.ToString());
                return false;
            }

            _tls.Options = _options(next.Credential);
            _current = next;
            ReloadedAt = _time.GetUtcNow();
            ServiceLog.CertificateReloaded(_logger, next.CertificatePath, next.Fingerprint.ToString(), next.NotAfter,
                next.Renewed ? "renewed by the appliance, same key"
                : next.Fingerprint.Equals(current.Fingerprint) ? "same key" : "new key, was " + current.Fingerprint);
            return true;
        }
    }

    public void Dispose()
    {
        _hangup?.Dispose();
        _expiryCheck?.Dispose();
    }
}
