using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.TrustStore.Exchange;

/// <summary>What an export file holds: pins (with or without certificates) and policies.</summary>
public sealed record PinExport(IReadOnlyList<Pin> Pins, IReadOnlyList<PolicySetting> Policies)
{
    /// <summary>The largest export file read (JSON or text).</summary>
    public const int MaxFileBytes = 64 * 1024 * 1024;

    /// <summary>The most pins or policies read from one file.</summary>
    public const int MaxEntries = 1_000_000;
}

/// <summary>A malformed export file; the message names the line or field at fault.</summary>
public sealed class ExportFormatException : Exception
{
    /// <summary>Creates the exception with a one-line reason.</summary>
    public ExportFormatException(string message, Exception? inner = null) : base(message, inner) { }
}
