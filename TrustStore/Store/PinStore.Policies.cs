using Apps.TrustStore.Policy;
using LiteDB;

namespace Apps.TrustStore.Store;

/// <summary>Where a policy applies.</summary>
public enum PolicyScope
{
    /// <summary>Every port of one host.</summary>
    Host,
    /// <summary>Every server one service connects to, unless the host has its own.</summary>
    Service,
}

/// <summary>A policy set for a host or a service.</summary>
public sealed record PolicySetting(PolicyScope Scope, string Name, TrustPolicy Policy);

public sealed partial class PinStore
{
    /// <summary>The longest service name.</summary>
    public const int MaxServiceLength = 64;

    /// <summary>The policy in force: the host's, else the service's, else <see cref="DefaultPolicy"/>.</summary>
    public TrustPolicy PolicyFor(string service, string host) => Guard(() =>
        ReadPolicy(PolicyId(PolicyScope.Host, HostPort.NormalizeHost(host)))
        ?? ReadPolicy(PolicyId(PolicyScope.Service, service))
        ?? DefaultPolicy);

    /// <summary>The policy set for exactly this host or service, or null when none is.</summary>
    public TrustPolicy? GetPolicy(PolicyScope scope, string name) => Guard(() =>
        ReadPolicy(PolicyId(scope, scope == PolicyScope.Host ? HostPort.NormalizeHost(name) : CheckService(name))));

    /// <summary>Every policy set, hosts first.</summary>
    public IReadOnlyList<PolicySetting> Policies() => Guard(() => _policies.FindAll()
        .Select(d => ParseSetting(d))
        .OrderBy(s => s.Scope).ThenBy(s => s.Name, StringComparer.Ordinal).ToList());

    /// <summary>Sets (or with null, clears) the policy of a host or service.</summary>
    public void SetPolicy(PolicyScope scope, string name, TrustPolicy? policy) => InTransaction(() =>
    {
        name = scope == PolicyScope.Host ? HostPort.NormalizeHost(name) : CheckService(name);
        string id = PolicyId(scope, name);
        if (policy is { } p)
            _policies.Upsert(new BsonDocument { ["_id"] = id, ["policy"] = p.Name() });
        else
            _policies.Delete(id);
        return 0;
    });

    /// <summary>Checks a service name: 1-64 characters of a-z, 0-9 and '-'.</summary>
    public static string CheckService(string service)
    {
        if (service.Length is 0 or > MaxServiceLength || !service.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            throw new TrustStoreException(TrustStoreError.InvalidInput,
                $"'{service}' is not a service name: use 1-{MaxServiceLength} characters a-z, 0-9 and '-' (for example https or xmpp-client)");
        return service;
    }

    private TrustPolicy? ReadPolicy(string id)
    {
        BsonDocument? doc = _policies.FindById(id);
        if (doc is null) return null;
        return TrustPolicyNames.TryParse(doc["policy"].AsString, out TrustPolicy p)
            ? p
            : throw DatabaseFile.Corrupt(FilePath, $"policy '{id}' has unknown value '{doc["policy"]}'");
    }

    private PolicySetting ParseSetting(BsonDocument doc)
    {
        string id = doc["_id"].AsString;
        int colon = id.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0 || !TrustPolicyNames.TryParse(doc["policy"].AsString, out TrustPolicy p))
            throw DatabaseFile.Corrupt(FilePath, $"policy entry '{id}' is malformed");
        PolicyScope scope = id[..colon] == "host" ? PolicyScope.Host : PolicyScope.Service;
        return new PolicySetting(scope, id[(colon + 1)..], p);
    }

    private static string PolicyId(PolicyScope scope, string name) => (scope == PolicyScope.Host ? "host:" : "service:") + name;
}
