namespace Apps.TrustStore.Store;

/// <summary>
/// Where the trust database lives: <c>--data-dir</c>, else <c>$APPS_DATA_DIR</c>, else
/// <c>$XDG_DATA_HOME/apps</c>, else <c>~/.local/share/apps</c> (XDG Base Directory
/// Specification: a relative XDG_DATA_HOME is invalid and ignored).
/// </summary>
public static class DataDirectory
{
    /// <summary>The database's file name inside the data directory.</summary>
    public const string DatabaseFileName = "trust.db";

    /// <summary>The environment variable that overrides the data directory.</summary>
    public const string OverrideVariable = "APPS_DATA_DIR";

    /// <summary>Resolves the data directory.</summary>
    /// <param name="option">The <c>--data-dir</c> value, or null.</param>
    /// <param name="environment">Reads an environment variable (injected so tests control it).</param>
    public static string Resolve(string? option, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(option)) return Path.GetFullPath(option);
        string? over = environment(OverrideVariable);
        if (!string.IsNullOrWhiteSpace(over)) return Path.GetFullPath(over);
        string? xdg = environment("XDG_DATA_HOME");
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "apps");
        string? home = environment("HOME");
        if (string.IsNullOrWhiteSpace(home))
            throw new TrustStoreException(TrustStoreError.DatabaseInaccessible,
                "cannot find the data directory: HOME is not set; pass --data-dir DIR or set APPS_DATA_DIR");
        return Path.Combine(home, ".local", "share", "apps");
    }

    /// <summary>The database path inside <see cref="Resolve"/>'s directory.</summary>
    public static string DatabasePath(string? option, Func<string, string?> environment) =>
        Path.Combine(Resolve(option, environment), DatabaseFileName);
}
