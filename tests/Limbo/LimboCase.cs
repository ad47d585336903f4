using System.Text.Json;

namespace Apps.Limbo;

/// <summary>One x509-limbo test case, read from the suite's JSON (schema version 1).</summary>
internal sealed record LimboCase(
    string Id,
    string Kind,
    IReadOnlyList<string> TrustedCerts,
    IReadOnlyList<string> UntrustedIntermediates,
    string PeerCertificate,
    DateTimeOffset? ValidationTime,
    string? PeerNameKind,
    string? PeerNameValue,
    IReadOnlyList<string> ExtendedKeyUsage,
    int? MaxChainDepth,
    IReadOnlyList<string> Features,
    IReadOnlyList<string> ConflictsWith,
    IReadOnlyList<string> Crls,
    bool ExpectSuccess)
{
    public string Namespace => Id.Contains("::", StringComparison.Ordinal) ? Id[..Id.IndexOf("::", StringComparison.Ordinal)] : Id;

    public static IReadOnlyList<LimboCase> ReadAll(JsonElement root)
    {
        if (root.GetProperty("version").GetInt32() != 1)
            throw new InvalidDataException("unsupported x509-limbo schema version");
        var cases = new List<LimboCase>();
        foreach (var t in root.GetProperty("testcases").EnumerateArray())
        {
            string? nameKind = null, nameValue = null;
            if (t.TryGetProperty("expected_peer_name", out var name) && name.ValueKind == JsonValueKind.Object)
            {
                nameKind = name.GetProperty("kind").GetString();
                nameValue = name.GetProperty("value").GetString();
            }
            cases.Add(new LimboCase(
                t.GetProperty("id").GetString()!,
                t.GetProperty("validation_kind").GetString()!,
                Strings(t, "trusted_certs"),
                Strings(t, "untrusted_intermediates"),
                t.GetProperty("peer_certificate").GetString()!,
                t.TryGetProperty("validation_time", out var time) && time.ValueKind == JsonValueKind.String
                    ? DateTimeOffset.Parse(time.GetString()!, System.Globalization.CultureInfo.InvariantCulture)
                    : null,
                nameKind,
                nameValue,
                Strings(t, "extended_key_usage"),
                t.TryGetProperty("max_chain_depth", out var depth) && depth.ValueKind == JsonValueKind.Number ? depth.GetInt32() : null,
                Strings(t, "features"),
                Strings(t, "conflicts_with"),
                Strings(t, "crls"),
                t.GetProperty("expected_result").GetString() == "SUCCESS"));
        }
        return cases;
    }

    private static IReadOnlyList<string> Strings(JsonElement t, string property) =>
        t.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(e => e.GetString()!).ToList()
            : [];
}
