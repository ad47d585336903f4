using System.Globalization;
using System.Security.Cryptography;
using Apps.TrustStore.Certificates;
using Apps.TrustStore.Policy;
using Apps.TrustStore.Store;

namespace Apps.TrustStore.Writer;

/// <summary>
/// Usage: Apps.TrustStore.Writer DB PREFIX START COUNT
/// Pins COUNT keys for hosts PREFIX-START.test ... (port 443), one transaction each, through
/// PinStore.Check (first use), and prints "pinned N" on stdout after each write has committed.
/// The fingerprint of host N is SHA-256 of "PREFIX-N", so a checker can recompute it.
/// COUNT 0 means forever. Exit 0 when done.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 4)
        {
            Console.Error.WriteLine("usage: Apps.TrustStore.Writer DB PREFIX START COUNT");
            return 2;
        }
        string db = args[0], prefix = args[1];
        long start = long.Parse(args[2], CultureInfo.InvariantCulture), count = long.Parse(args[3], CultureInfo.InvariantCulture);
        using PinStore store = PinStore.Open(db);
        for (long i = start; count == 0 || i < start + count; i++)
        {
            DateTimeOffset now = TimeProvider.System.GetUtcNow();
            store.AddPin(new Pin
            {
                Service = "https",
                Server = HostPort.Create($"{prefix}-{i}.test", 443),
                Spki = FingerprintOf(prefix, i),
                FirstSeen = now,
                LastSeen = now,
                TrustedBy = TrustedBy.ManualPin,
            });
            Console.Out.WriteLine($"pinned {i}");
            Console.Out.Flush();
        }
        return 0;
    }

    /// <summary>The fingerprint the writer pins for host <paramref name="i"/>.</summary>
    public static SpkiFingerprint FingerprintOf(string prefix, long i) =>
        SpkiFingerprint.FromDigest(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{prefix}-{i}")));
}
