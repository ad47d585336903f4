namespace Apps.Tls.Credentials;

/// <summary>
/// The certificates a server can present, chosen per connection by the client's SNI host name
/// (RFC 6066 §3). The first credential is the default when no name matches or none was sent.
/// </summary>
public sealed class ServerCredentialSet
{
    private readonly ServerCredential[] _credentials;

    public ServerCredentialSet(params ServerCredential[] credentials)
    {
        if (credentials.Length == 0)
        {
            throw new ArgumentException("a server needs at least one certificate", nameof(credentials));
        }

        _credentials = credentials;
    }

    public ServerCredential Default => _credentials[0];

    public IReadOnlyList<ServerCredential> All => _credentials;

    /// <summary>
    /// The credential whose SAN names <paramref name="serverName"/>: an exact match first, then a wildcard
    /// covering only the left-most label (RFC 6125 §6.4.3); otherwise <see cref="Default"/>.
    /// </summary>
    public ServerCredential Select(string? serverName)
    {
        if (string.IsNullOrEmpty(serverName))
        {
            return Default;
        }

        var name = serverName.TrimEnd('.');
        foreach (var credential in _credentials)
        {
            foreach (var dns in credential.DnsNames)
            {
                if (string.Equals(dns, name, StringComparison.OrdinalIgnoreCase))
                {
                    return credential;
                }
            }
        }

        var dot = name.IndexOf('.');
        if (dot > 0)
        {
            var parent = name[(dot + 1)..];
            foreach (var credential in _credentials)
            {
                foreach (var dns in credential.DnsNames)
                {
                    if (dns.StartsWith("*.", StringComparison.Ordinal)
                        && string.Equals(dns[2..], parent, StringComparison.OrdinalIgnoreCase))
                    {
                        return credential;
                    }
                }
            }
        }

        return Default;
    }
}
