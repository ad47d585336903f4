namespace Apps.Tls.Entropy;

/// <summary>
/// Thrown when random output is asked for before Fortuna has been seeded: it never
/// hands out output it cannot stand behind. Wait with
/// <see cref="Fortuna.WaitUntilSeededAsync"/> or start the entropy sources first.
/// </summary>
public sealed class EntropyNotSeededException : InvalidOperationException
{
    public EntropyNotSeededException()
        : base("the random generator has not been seeded yet: no entropy source has delivered enough; start the entropy sources (or restore a seed file) and wait for the first reseed")
    {
    }

    public EntropyNotSeededException(string message) : base(message) { }

    public EntropyNotSeededException(string message, Exception inner) : base(message, inner) { }
}
