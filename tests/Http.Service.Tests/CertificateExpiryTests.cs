using Apps.Conduit.Kestrel;
using Apps.Tls.Credentials;
using Apps.Tls.Engine;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Org.BouncyCastle.Security;

namespace Apps.Http.Service.Tests;

/// <summary>The appliance renews its own certificate with the same key before it expires, and warns about a given one.</summary>
public sealed class CertificateExpiryTests : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("https-expiry-");
    private readonly SecureRandom _random = new();

    public void Dispose() => _data.Delete(recursive: true);

    private string SavedCertificate => Path.Combine(_data.FullName, ServiceIdentity.CertificateFileName);

    private void SaveOwnPair(DateTimeOffset now, TimeSpan validity) =>
        ApplianceCertificate.Create(["localhost", "127.0.0.1", "::1"], now, _random, validity)
            .WritePemFiles(SavedCertificate, Path.Combine(_data.FullName, ServiceIdentity.KeyFileName));

    private TlsServerOptions Options(ServerCredential credential) => new() { Random = _random, Credentials = new ServerCredentialSet(credential) };

    [Fact]
    public void The_own_certificate_is_renewed_with_its_key_once_it_is_within_30_days_of_its_end()
    {
        var start = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        SaveOwnPair(start, TimeSpan.FromDays(40));
        var time = new FakeTimeProvider(start);
        var identity = ServiceIdentity.Load(null, null, null, _data.FullName, _random, start);
        var tls = new EngineTlsServerSettings { Options = Options(identity.Credential) };
        var served = tls.Options;
        using var reloader = new CertificateReloader(identity, tls, Options, time, _random, NullLogger.Instance);
        reloader.CheckExpiry();

        time.Advance(TimeSpan.FromDays(9)); // 31 days left: checked 18 times, not due
        Assert.Same(identity, reloader.Current);
        Assert.Same(served, tls.Options);

        time.Advance(TimeSpan.FromDays(2)); // 29 days left
        var renewed = reloader.Current;

        Assert.True(renewed.Renewed);
        Assert.True(renewed.SelfSigned);
        Assert.Equal(identity.Fingerprint, renewed.Fingerprint);
        Assert.Equal(start.AddDays(11 + 365), renewed.NotAfter, TimeSpan.FromHours(12));
        Assert.NotSame(served, tls.Options);
        Assert.Same(renewed.Credential, tls.Options.Credentials.Default);
        // Written back: a restart serves the renewed certificate, and does not renew it again.
        var reloaded = ServiceIdentity.Load(null, null, null, _data.FullName, _random, time.GetUtcNow());
        Assert.False(reloaded.Renewed);
        Assert.Equal(renewed.NotAfter, reloaded.NotAfter);
    }

    [Fact]
    public async Task An_own_certificate_near_its_end_is_renewed_at_start_and_the_pin_still_holds()
    {
        SaveOwnPair(DateTimeOffset.UtcNow.AddDays(-355), TimeSpan.FromDays(365));
        var before = ServiceIdentityPin();

        await using var service = await ServiceProcess.StartAsync(_data.FullName);
        var status = await ExternalTool.CurlAsync(service, service.BaseUrl + "/status");
        var curl = await ExternalTool.RunAsync("curl", ["-sS", "--cacert", SavedCertificate, $"https://localhost:{service.Port}/healthz"]);

        Assert.Equal(before, service.PinBase64);
        Assert.Contains("certificate file " + SavedCertificate + " (renewed)", service.Log);
        var until = System.Text.RegularExpressions.Regex.Match(status.Output, @"valid until (\d{4}-\d\d-\d\d \d\d:\d\d) UTC");
        Assert.True(until.Success, status.Output);
        Assert.Equal(DateTimeOffset.UtcNow.AddDays(365), DateTimeOffset.Parse(until.Groups[1].Value + "Z", System.Globalization.CultureInfo.InvariantCulture),
            TimeSpan.FromHours(1));
        Assert.Equal("ok\n", curl.Output);
    }

    [Fact]
    public async Task A_given_certificate_near_its_end_is_warned_about_at_start()
    {
        var cert = Path.Combine(_data.FullName, "given.pem");
        var key = Path.Combine(_data.FullName, "given.key");
        var now = DateTimeOffset.UtcNow;
        var ends = now.AddDays(5);
        ApplianceCertificate.Create(["localhost"], now.AddDays(-80), _random, TimeSpan.FromDays(85)).WritePemFiles(cert, key);

        await using var service = await ServiceProcess.StartAsync(null, "--cert", cert, "--key", key);
        var log = await service.WaitForLogAsync("renew it, then send SIGHUP");

        Assert.Contains($"warn: Apps.Http.Service[7] certificate in {cert} (key {service.Fingerprint}) expires on {ends:yyyy-MM-dd}", log);
        Assert.DoesNotContain("(renewed)", log);
    }

    private string ServiceIdentityPin() =>
        ServiceIdentity.Load(null, null, null, _data.FullName, _random, DateTimeOffset.UtcNow.AddDays(-355)).PinBase64;
}
