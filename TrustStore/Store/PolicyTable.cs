using Apps.TrustStore.Policy;

namespace Apps.TrustStore.Store;

/// <summary>
/// Every policy setting in memory, resolved as <see cref="PinStore.PolicyFor"/> does (host, then
/// service, then the default), for commands that need the policy of many pins at once.
/// </summary>
public sealed class PolicyTable
{
    private readonly Dictionary<string, TrustPolicy> _hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TrustPolicy> _services = new(StringComparer.Ordinal);

    /// <summary>Builds the table from the settings of <see cref="PinStore.Policies"/>.</summary>
    public PolicyTable(IEnumerable<PolicySetting> settings)
    {
        foreach (PolicySetting s in settings)
            (s.Scope == PolicyScope.Host ? _hosts : _services)[s.Name] = s.Policy;
    }

    /// <summary>The policy in force for a service connecting to a host.</summary>
    public TrustPolicy For(string service, string host) =>
        _hosts.TryGetValue(HostPort.NormalizeHost(host), out TrustPolicy p) ? p
        : _services.TryGetValue(service, out p) ? p
        : PinStore.DefaultPolicy;
}
