namespace Apps.TrustStore.Policy;

/// <summary>How a server's certificate is judged. Set per host or per service.</summary>
public enum TrustPolicy
{
    /// <summary>CA-verified certificates are accepted; known keys are still recorded, but never required.</summary>
    Ca,

    /// <summary>Trust on first use: an unknown server is accepted (CA-verified or not) and its key pinned;
    /// afterwards the key must match a pin, whatever the CA says.</summary>
    Tofu,

    /// <summary>Only keys pinned beforehand (by <c>trust pin</c> or an import) are accepted; for self-signed appliances.</summary>
    Pin,
}

/// <summary>How a pin came to be trusted.</summary>
public enum TrustedBy
{
    /// <summary>Accepted on first use under the tofu policy, without CA verification.</summary>
    FirstUse,
    /// <summary>Recorded when a CA-verified certificate was first seen.</summary>
    CaVerified,
    /// <summary>Pinned by a person with <c>trust pin</c>.</summary>
    ManualPin,
    /// <summary>A changed key a person accepted with <c>trust accept-change</c>.</summary>
    AcceptedChange,
    /// <summary>Read from an export file by <c>trust import</c>.</summary>
    Imported,
}

/// <summary>Names and parses policies as the command line and the store write them.</summary>
public static class TrustPolicyNames
{
    /// <summary>The lower-case name: ca, tofu or pin.</summary>
    public static string Name(this TrustPolicy policy) => policy switch
    {
        TrustPolicy.Ca => "ca",
        TrustPolicy.Tofu => "tofu",
        TrustPolicy.Pin => "pin",
        _ => throw new ArgumentOutOfRangeException(nameof(policy)),
    };

    /// <summary>Parses ca, tofu or pin (any case).</summary>
    public static bool TryParse(string? text, out TrustPolicy policy)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "ca": policy = TrustPolicy.Ca; return true;
            case "tofu": policy = TrustPolicy.Tofu; return true;
            case "pin": policy = TrustPolicy.Pin; return true;
            default: policy = TrustPolicy.Tofu; return false;
        }
    }

    /// <summary>The kebab-case name of a trust origin (first-use, ca-verified, ...).</summary>
    public static string Name(this TrustedBy by) => by switch
    {
        TrustedBy.FirstUse => "first-use",
        TrustedBy.CaVerified => "ca-verified",
        TrustedBy.ManualPin => "manual-pin",
        TrustedBy.AcceptedChange => "accepted-change",
        TrustedBy.Imported => "imported",
        _ => throw new ArgumentOutOfRangeException(nameof(by)),
    };

    /// <summary>Parses the kebab-case names written by <see cref="Name(TrustedBy)"/>.</summary>
    public static bool TryParse(string? text, out TrustedBy by)
    {
        foreach (TrustedBy candidate in Enum.GetValues<TrustedBy>())
        {
            if (string.Equals(candidate.Name(), text, StringComparison.OrdinalIgnoreCase))
            {
                by = candidate;
                return true;
            }
        }
        by = TrustedBy.FirstUse;
        return false;
    }
}
