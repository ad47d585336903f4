using System.Collections.Concurrent;
using System.Security.Cryptography;
using Apps.Tls.Entropy;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Tls.Tests.Entropy;

public sealed class FortunaTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Refuses_output_before_the_first_reseed()
    {
        using var f = new Fortuna(_time);
        f.AddEvent(7, new byte[32]);
        Assert.False(f.IsSeeded);
        var e = Assert.Throws<EntropyNotSeededException>(() => f.Fill(new byte[16]));
        Assert.Contains("not been seeded", e.Message);
    }

    [Fact]
    public void First_reseed_happens_once_pool_0_holds_64_bytes()
    {
        using var f = new Fortuna(_time);
        // One source's events go round-robin: events 0 and 32 land in pool 0 (34 bytes each).
        for (int i = 0; i < 32; i++)
        {
            f.AddEvent(3, Event(i));
        }
        Assert.False(f.IsSeeded);
        f.AddEvent(3, Event(32));
        Assert.True(f.IsSeeded);
        Assert.Equal(1, f.ReseedCount);
        f.Fill(new byte[64]);
    }

    [Fact]
    public void Reseeds_no_sooner_than_100_ms_after_the_last()
    {
        using var f = new Fortuna(_time);
        FillPool0(f, source: 1);
        Assert.Equal(1, f.ReseedCount);

        FillPool0(f, source: 1);
        f.Fill(new byte[16]);
        Assert.Equal(1, f.ReseedCount);
        _time.Advance(TimeSpan.FromMilliseconds(99));
        f.Fill(new byte[16]);
        Assert.Equal(1, f.ReseedCount);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        f.Fill(new byte[16]);
        Assert.Equal(2, f.ReseedCount);
    }

    [Fact]
    public void Reseed_r_uses_pool_i_exactly_when_2_to_the_i_divides_r()
    {
        using var f = new Fortuna(_time);
        // Seeded from a seed file first, so that every reseed below happens on a request.
        byte[] seed = SHA256.HashData("seed file"u8).Concat(SHA256.HashData("more"u8)).ToArray();
        f.RestoreSeed(seed);
        byte[] key = SHA256.HashData(SHA256.HashData([.. new byte[32], .. seed]));
        var model = new PoolModel();
        int e = 0;
        for (int r = 1; r <= 16; r++)
        {
            // Two rounds over all pools put 2 x 34 bytes into every pool, pool 0 included.
            for (int k = 0; k < 2 * Fortuna.PoolCount; k++, e++)
            {
                byte[] data = Event(e);
                f.AddEvent(9, data);
                model.Add(9, data);
            }
            _time.Advance(TimeSpan.FromMilliseconds(100));
            f.TryReseed(); // what Fill does first; a Fill would also re-key the central generator
            Assert.Equal(r, f.ReseedCount);
            key = SHA256.HashData(SHA256.HashData([.. key, .. model.TakeForReseed(r)]));
            Assert.Equal(key, f.CentralKeySnapshot());
        }
    }

    [Fact]
    public void Restored_seed_file_seeds_without_a_reseed()
    {
        using var f = new Fortuna(_time);
        f.RestoreSeed(RandomNumberGenerator.GetBytes(64));
        Assert.True(f.IsSeeded);
        Assert.Equal(0, f.ReseedCount);
        Assert.True(f.GetStatus().RestoredFromSeedFile);
        f.Fill(new byte[32]);
    }

    [Fact]
    public void Rejects_empty_and_oversized_events()
    {
        using var f = new Fortuna(_time);
        Assert.Throws<ArgumentException>(() => f.AddEvent(0, ReadOnlySpan<byte>.Empty));
        Assert.Throws<ArgumentException>(() => f.AddEvent(0, new byte[33]));
        Assert.Throws<ArgumentException>(() => f.RestoreSeed(new byte[10]));
    }

    [Fact]
    public async Task Wait_until_seeded_times_out_with_a_typed_error_in_virtual_time()
    {
        using var f = new Fortuna(_time);
        Task wait = f.WaitUntilSeededAsync(TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(wait.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        var e = await Assert.ThrowsAsync<EntropyNotSeededException>(() => wait);
        Assert.Contains("within 5 s", e.Message);
    }

    [Fact]
    public async Task Wait_until_seeded_completes_at_the_first_reseed()
    {
        using var f = new Fortuna(_time);
        Task wait = f.WaitUntilSeededAsync(TimeSpan.FromSeconds(5));
        Assert.False(wait.IsCompleted);
        FillPool0(f, source: 2);
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(f.IsSeeded);
    }

    [Fact]
    public void Many_threads_draw_at_once_and_never_see_the_same_bytes()
    {
        using var f = new Fortuna(_time);
        FillPool0(f, source: 1);
        var seen = new ConcurrentDictionary<UInt128, int>();
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var buffer = new byte[64];
            for (int i = 0; i < 2000; i++)
            {
                f.Fill(buffer);
                for (int off = 0; off < buffer.Length; off += 16)
                {
                    Assert.True(seen.TryAdd(System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(buffer.AsSpan(off)), 0));
                }
                if (i % 500 == 0 && t == 0)
                {
                    // Keep events and reseeds going while others draw.
                    f.AddEvent(4, Event(i));
                }
            }
        });
        Assert.Equal(16 * 2000 * 4, seen.Count);
    }

    [Fact]
    public void Two_generators_with_different_seeds_never_agree()
    {
        using var a = new Fortuna(_time);
        using var b = new Fortuna(_time);
        a.RestoreSeed(Enumerable.Repeat((byte)1, 64).ToArray());
        b.RestoreSeed(Enumerable.Repeat((byte)2, 64).ToArray());
        var blocksA = new HashSet<UInt128>();
        var x = new byte[4096];
        for (int i = 0; i < 64; i++)
        {
            a.Fill(x);
            for (int off = 0; off < x.Length; off += 16)
            {
                blocksA.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(x.AsSpan(off)));
            }
        }
        for (int i = 0; i < 64; i++)
        {
            b.Fill(x);
            for (int off = 0; off < x.Length; off += 16)
            {
                Assert.DoesNotContain(System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(x.AsSpan(off)), blocksA);
            }
        }
    }

    [Fact]
    public void New_entropy_reaches_threads_that_drew_before_the_reseed()
    {
        // Two instances in the same state give the same output until one of them reseeds.
        using var a = new Fortuna(_time);
        using var b = new Fortuna(_time);
        byte[] seed = RandomNumberGenerator.GetBytes(64);
        a.RestoreSeed(seed);
        b.RestoreSeed(seed);
        byte[] x = new byte[32], y = new byte[32];
        a.Fill(x);
        b.Fill(y);
        Assert.Equal(x, y);
        FillPool0(a, source: 6);
        a.Fill(x);
        b.Fill(y);
        Assert.NotEqual(x, y);
    }

    [Fact]
    public void BouncyCastle_SecureRandom_draws_from_fortuna()
    {
        using var a = new Fortuna(_time);
        using var b = new Fortuna(_time);
        Org.BouncyCastle.Security.SecureRandom unseeded = FortunaRandomGenerator.CreateSecureRandom(a);
        Assert.Throws<EntropyNotSeededException>(() => unseeded.NextBytes(new byte[8]));

        byte[] seed = RandomNumberGenerator.GetBytes(64);
        a.RestoreSeed(seed);
        b.RestoreSeed(seed);
        var viaBouncyCastle = new byte[48];
        FortunaRandomGenerator.CreateSecureRandom(a).NextBytes(viaBouncyCastle);
        var direct = new byte[48];
        b.Fill(direct);
        Assert.Equal(direct, viaBouncyCastle);
    }

    private static byte[] Event(int i)
    {
        var data = new byte[32];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(data, i);
        data[31] = 0xA5;
        return data;
    }

    private static void FillPool0(Fortuna f, byte source)
    {
        for (int i = 0; i < 2 * Fortuna.PoolCount + 1; i++)
        {
            f.AddEvent(source, Event(i));
        }
    }

    /// <summary>An independent model of the 32 pools: raw bytes, hashed only at reseed.</summary>
    private sealed class PoolModel
    {
        private readonly List<byte>[] _pools = Enumerable.Range(0, Fortuna.PoolCount).Select(_ => new List<byte>()).ToArray();
        private readonly Dictionary<byte, int> _next = [];

        public void Add(byte source, byte[] data)
        {
            int i = _next.GetValueOrDefault(source);
            _next[source] = (i + 1) % Fortuna.PoolCount;
            _pools[i].Add(source);
            _pools[i].Add((byte)data.Length);
            _pools[i].AddRange(data);
        }

        public byte[] TakeForReseed(int r)
        {
            var seed = new List<byte>();
            for (int i = 0; i < Fortuna.PoolCount; i++)
            {
                if (r % (1 << i) != 0)
                {
                    continue;
                }
                seed.AddRange(SHA256.HashData(_pools[i].ToArray()));
                _pools[i].Clear();
            }
            return [.. seed];
        }
    }
}
