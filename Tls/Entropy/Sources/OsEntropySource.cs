using System.Security.Cryptography;

namespace Apps.Tls.Entropy.Sources;

/// <summary>The operating system's generator (getrandom(2) on Linux, through .NET).</summary>
public sealed class OsEntropySource : EntropySource
{
    public override string Name => "os";

    public override byte SourceId => EntropySourceIds.OperatingSystem;

    public override TimeSpan Interval => TimeSpan.FromMilliseconds(250);

    public override string Description => "operating system RNG (getrandom)";

    public override ValueTask<int> GatherAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        Span<byte> span = buffer.Span[..Fortuna.MaxEventBytes];
        RandomNumberGenerator.Fill(span);
        return ValueTask.FromResult(span.Length);
    }
}
