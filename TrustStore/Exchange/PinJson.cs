using System.Text;
using System.Text.Json;
using Apps.TrustStore.Certificates;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.TrustStore.Exchange;

/// <summary>
/// The JSON form of pins and policies: the export/import format (a full backup, certificates
/// included as base64 DER) and the shape <c>trust --json</c> prints.
/// <code>
/// { "format": "apps-trust", "version": 1,
///   "policies": [ { "scope": "host", "name": "nas.lan", "policy": "pin" } ],
///   "pins": [ { "host": "nas.lan", "port": 443, "service": "https", "fingerprint": "SHA256:...",
///               "trustedBy": "manual-pin", "firstSeen": "...", "lastSeen": "...", "timesSeen": 3,
///               "note": null, "chain": [ "MIIB..." ] } ] }
/// </code>
/// </summary>
public static class PinJson
{
    /// <summary>The value of the "format" member.</summary>
    public const string FormatName = "apps-trust";

    /// <summary>The version written; readers accept this version only.</summary>
    public const int Version = 1;

    /// <summary>Writes an export document.</summary>
    public static string Write(PinExport export)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("version", Version);
            w.WriteStartArray("policies");
            foreach (PolicySetting p in export.Policies) WritePolicy(w, p);
            w.WriteEndArray();
            w.WriteStartArray("pins");
            foreach (Pin pin in export.Pins) WritePin(w, pin, includeChain: true, hex: false);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes one pin as an object; <paramref name="policy"/>, when given, is added as "policy".</summary>
    public static void WritePin(Utf8JsonWriter w, Pin pin, bool includeChain, bool hex, TrustPolicy? policy = null)
    {
        w.WriteStartObject();
        w.WriteNumber("id", pin.Id);
        w.WriteString("host", pin.Server.Host);
        w.WriteNumber("port", pin.Server.Port);
        w.WriteString("service", pin.Service);
        w.WriteString("fingerprint", pin.Spki.Format(hex));
        w.WriteString("trustedBy", pin.TrustedBy.Name());
        if (policy is { } p) w.WriteString("policy", p.Name());
        w.WriteString("firstSeen", pin.FirstSeen);
        w.WriteString("lastSeen", pin.LastSeen);
        w.WriteNumber("timesSeen", pin.TimesSeen);
        if (pin.Note is null) w.WriteNull("note"); else w.WriteString("note", pin.Note);
        if (pin.Certificate is { } c)
        {
            w.WriteString("subject", c.Subject);
            w.WriteString("issuer", c.Issuer);
            w.WriteString("notBefore", c.NotBefore);
            w.WriteString("notAfter", c.NotAfter);
            w.WriteStartArray("subjectAltNames");
            foreach (string san in c.SubjectAltNames) w.WriteStringValue(san);
            w.WriteEndArray();
        }
        if (includeChain)
        {
            w.WriteStartArray("chain");
            foreach (byte[] der in pin.Chain) w.WriteBase64StringValue(der);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>Writes one policy setting as an object.</summary>
    public static void WritePolicy(Utf8JsonWriter w, PolicySetting p)
    {
        w.WriteStartObject();
        w.WriteString("scope", p.Scope == PolicyScope.Host ? "host" : "service");
        w.WriteString("name", p.Name);
        w.WriteString("policy", p.Policy.Name());
        w.WriteEndObject();
    }

    /// <summary>Reads an export document. <paramref name="now"/> stamps pins that carry no times.</summary>
    /// <exception cref="ExportFormatException">The document is malformed; the message names the entry.</exception>
    public static PinExport Read(string json, DateTimeOffset now)
    {
        if (json.Length > PinExport.MaxFileBytes)
            throw new ExportFormatException($"the file is larger than {PinExport.MaxFileBytes} bytes");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new ExportFormatException($"not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out JsonElement f) || f.ValueKind != JsonValueKind.String || f.GetString() != FormatName)
                throw new ExportFormatException($"not a trust export: expected an object with \"format\": \"{FormatName}\"");
            if (!root.TryGetProperty("version", out JsonElement v) || v.ValueKind != JsonValueKind.Number || v.GetInt32() != Version)
                throw new ExportFormatException($"unsupported export version (this program reads version {Version})");
            var policies = new List<PolicySetting>();
            var pins = new List<Pin>();
            int index = 0;
            try
            {
                if (root.TryGetProperty("policies", out JsonElement ps))
                    foreach (JsonElement p in ps.EnumerateArray()) { CheckCount(policies.Count); policies.Add(ReadPolicy(p)); index++; }
                index = 0;
                if (root.TryGetProperty("pins", out JsonElement pinArray))
                    foreach (JsonElement p in pinArray.EnumerateArray()) { CheckCount(pins.Count); pins.Add(ReadPin(p, now)); index++; }
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or KeyNotFoundException or TrustStoreException or CertificateFormatException)
            {
                throw new ExportFormatException($"entry {index + 1}: {e.Message}", e);
            }
            return new PinExport(pins, policies);
        }
    }

    private static void CheckCount(int count)
    {
        if (count >= PinExport.MaxEntries) throw new FormatException($"more than {PinExport.MaxEntries} entries");
    }

    private static PolicySetting ReadPolicy(JsonElement p)
    {
        string scope = p.GetProperty("scope").GetString() ?? "";
        string name = p.GetProperty("name").GetString() ?? "";
        if (!TrustPolicyNames.TryParse(p.GetProperty("policy").GetString(), out TrustPolicy policy))
            throw new FormatException("\"policy\" must be ca, tofu or pin");
        return scope switch
        {
            "host" => new PolicySetting(PolicyScope.Host, HostPort.NormalizeHost(name), policy),
            "service" => new PolicySetting(PolicyScope.Service, PinStore.CheckService(name), policy),
            _ => throw new FormatException("\"scope\" must be host or service"),
        };
    }

    private static Pin ReadPin(JsonElement p, DateTimeOffset now)
    {
        HostPort server = HostPort.Create(p.GetProperty("host").GetString() ?? "", p.GetProperty("port").GetInt32());
        SpkiFingerprint spki = SpkiFingerprint.Parse(p.GetProperty("fingerprint").GetString() ?? "");
        var chain = new List<byte[]>();
        if (p.TryGetProperty("chain", out JsonElement c) && c.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement der in c.EnumerateArray())
            {
                if (chain.Count == TofuPolicy.MaxChainLength) throw new FormatException($"more than {TofuPolicy.MaxChainLength} certificates");
                chain.Add(der.GetBytesFromBase64());
            }
        }
        CertificateInfo? leaf = chain.Count > 0 ? CertificateInfo.Parse(chain[0]) : null;
        if (leaf is not null && leaf.Spki != spki)
            throw new FormatException($"the fingerprint {spki} does not match the key of the certificate ({leaf.Spki})");
        TrustedBy by = TrustedBy.Imported;
        if (p.TryGetProperty("trustedBy", out JsonElement t) && !TrustPolicyNames.TryParse(t.GetString(), out by))
            throw new FormatException($"unknown trustedBy '{t.GetString()}'");
        string? note = p.TryGetProperty("note", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        return new Pin
        {
            Service = PinStore.CheckService(p.TryGetProperty("service", out JsonElement s) ? s.GetString() ?? "" : "https"),
            Server = server,
            Spki = spki,
            Chain = chain,
            Certificate = leaf,
            FirstSeen = p.TryGetProperty("firstSeen", out JsonElement fs) ? fs.GetDateTimeOffset() : now,
            LastSeen = p.TryGetProperty("lastSeen", out JsonElement ls) ? ls.GetDateTimeOffset() : now,
            TimesSeen = p.TryGetProperty("timesSeen", out JsonElement ts) ? ts.GetInt64() : 0,
            TrustedBy = by,
            Note = note,
        };
    }
}
