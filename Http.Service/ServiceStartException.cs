namespace Apps.Http.Service;

/// <summary>Something the service needs on its own disk cannot be had (the data directory, the --trace file); the
/// message says what, and what to change, in one line.</summary>
internal sealed class ServiceStartException(string message, Exception inner) : Exception(message, inner);
