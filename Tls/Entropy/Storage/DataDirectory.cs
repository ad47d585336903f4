namespace Apps.Tls.Entropy.Storage;

/// <summary>
/// Where the toolkit keeps its data (trust.db, history, the entropy seed), per ARCHITECTURE.md:
/// <c>--data-dir</c>, else <c>$APPS_DATA_DIR</c>, else <c>$XDG_DATA_HOME/apps</c>, else
/// <c>~/.local/share/apps</c>.
/// </summary>
public static class DataDirectory
{
    /// <summary>Resolves the data directory; <paramref name="explicitDirectory"/> is the command line's.</summary>
    public static string Resolve(string? explicitDirectory = null)
    {
        if (!string.IsNullOrEmpty(explicitDirectory))
        {
            return Path.GetFullPath(explicitDirectory);
        }
        if (Environment.GetEnvironmentVariable("APPS_DATA_DIR") is { Length: > 0 } fromEnvironment)
        {
            return Path.GetFullPath(fromEnvironment);
        }
        if (Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "apps");
        }
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".local", "share", "apps");
    }
}
