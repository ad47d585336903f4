namespace Apps.TrustStore.Store;

/// <summary>What went wrong, for callers that map errors to exit codes or UI states.</summary>
public enum TrustStoreError
{
    /// <summary>The database file is damaged or is not a LiteDB file (the file is at fault).</summary>
    DatabaseCorrupt,
    /// <summary>The database was written by a newer version with a schema this one does not know.</summary>
    DatabaseTooNew,
    /// <summary>The database file or its directory cannot be read or written (permissions, a directory in the way).</summary>
    DatabaseInaccessible,
    /// <summary>No pin or pending change exists for what the caller named (the caller's mistake).</summary>
    NotFound,
    /// <summary>Input from a person or an import file is malformed (their mistake).</summary>
    InvalidInput,
}

/// <summary>A failure of the trust store, with a one-line message that says what happened and what to do.</summary>
public sealed class TrustStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrustStoreException(TrustStoreError error, string message, Exception? inner = null) : base(message, inner) =>
        Error = error;

    /// <summary>The kind of failure.</summary>
    public TrustStoreError Error { get; }
}
