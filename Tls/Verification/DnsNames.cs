// DNS name syntax and comparison for certificates: RFC 5280 §4.2.1.6 (dNSName uses the RFC 1034
// "preferred name syntax", ASCII only, internationalised names as A-labels, RFC 5890) and the
// subtree rule of RFC 5280 §4.2.1.10 ("any name built by adding labels on the left").
namespace Apps.Tls.Verification;

internal static class DnsNames
{
    public const int MaxLength = 253;
    public const int MaxLabelLength = 63;

    /// <summary>
    /// True for an LDH host name; with <paramref name="allowWildcard"/>, also for <c>*.</c> followed by
    /// a host name (RFC 6125 §6.4.3: the wildcard is the whole left-most label).
    /// </summary>
    public static bool IsValid(string name, bool allowWildcard)
    {
        if (name.Length is 0 or > MaxLength)
            return false;
        var labels = name.Split('.');
        var first = 0;
        if (allowWildcard && labels[0] == "*")
        {
            if (labels.Length < 2)
                return false;
            first = 1;
        }
        for (var i = first; i < labels.Length; i++)
        {
            if (!IsValidLabel(labels[i]))
                return false;
        }
        return true;
    }

    private static bool IsValidLabel(string label)
    {
        if (label.Length is 0 or > MaxLabelLength || label[0] == '-' || label[^1] == '-')
            return false;
        foreach (var c in label)
        {
            if (!(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-'))
                return false;
        }
        return true;
    }

    /// <summary>True when the name is a wildcard pattern (<c>*.</c> + rest).</summary>
    public static bool IsWildcard(string name) => name.StartsWith("*.", StringComparison.Ordinal);

    /// <summary>RFC 5280 §4.2.1.10: <paramref name="name"/> is <paramref name="subtree"/> or below it; case-insensitive.</summary>
    public static bool IsWithin(string name, string subtree)
    {
        if (subtree.Length == 0)
            return true;
        if (name.Length == subtree.Length)
            return name.Equals(subtree, StringComparison.OrdinalIgnoreCase);
        return name.Length > subtree.Length
            && name[name.Length - subtree.Length - 1] == '.'
            && name.EndsWith(subtree, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// RFC 6125 §6.4.3: <c>*.rest</c> matches exactly one whole left-most label, so
    /// <c>*.example.com</c> matches <c>www.example.com</c> but not <c>example.com</c> or <c>a.b.example.com</c>.
    /// </summary>
    /// <remarks>
    /// A wildcard over fewer than two labels (<c>*.com</c>, <c>*.lan</c>) never matches: it would cover a
    /// whole top-level domain (CABF §3.2.2.6). Without a Public Suffix List, <c>*.co.uk</c> still does.
    /// </remarks>
    public static bool MatchesPattern(string pattern, string reference)
    {
        if (!IsWildcard(pattern))
            return pattern.Equals(reference, StringComparison.OrdinalIgnoreCase);
        if (LabelCount(pattern) < 3)
            return false;
        var rest = pattern.AsSpan(2);
        var dot = reference.IndexOf('.');
        return dot > 0 && reference.AsSpan(dot + 1).Equals(rest, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Number of labels in a name.</summary>
    public static int LabelCount(string name) => name.Length == 0 ? 0 : name.Count(c => c == '.') + 1;
}
