namespace Apps.Tools.Trust;

/// <summary>The exit statuses of <c>trust</c>; listed in <c>trust --help</c> and the README.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;
    /// <summary>A bug or an unexpected failure (the message says what).</summary>
    public const int Internal = 1;
    /// <summary>The command line is wrong (unknown option, missing argument).</summary>
    public const int Usage = 2;
    /// <summary>The host, pin or pending change named does not exist.</summary>
    public const int NotFound = 3;
    /// <summary>Input is malformed: a fingerprint, a host, a PEM file, an import file.</summary>
    public const int InvalidInput = 4;
    /// <summary>The database cannot be used: damaged, not LiteDB, from a newer version, or inaccessible.</summary>
    public const int Database = 5;
    /// <summary>A confirmation was declined; nothing was changed.</summary>
    public const int Declined = 6;

    public const string HelpText =
        "Exit status: 0 done; 1 unexpected failure; 2 wrong command line; 3 unknown host or no pending change; " +
        "4 malformed input (fingerprint, host, PEM, import file); 5 database unusable; 6 confirmation declined.";
}
