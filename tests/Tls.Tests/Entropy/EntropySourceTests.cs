using Apps.Tls.Entropy;
using Apps.Tls.Entropy.Sources;
using Microsoft.Extensions.Time.Testing;

namespace Apps.Tls.Tests.Entropy;

public sealed class HostPlatformTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("apps-fakeroot-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Write(string relative, string content)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    [Fact]
    public void Bare_metal_without_hwrng()
    {
        Write("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr sse sse2 aes\n");
        HostPlatform p = HostPlatform.Detect(_root);
        Assert.False(p.IsVirtualized);
        Assert.Null(p.HardwareRng);
        Assert.Null(p.HardwareRngDevice);
    }

    [Fact]
    public void Kvm_guest_with_virtio_rng_is_host_fed()
    {
        Write("proc/cpuinfo", "processor\t: 0\nflags\t\t: fpu sse2 hypervisor aes\n");
        Write("sys/class/dmi/id/sys_vendor", "QEMU\n");
        Write("sys/class/misc/hw_random/rng_current", "virtio_rng.0\n");
        Write("dev/hwrng", "");
        HostPlatform p = HostPlatform.Detect(_root);
        Assert.True(p.IsVirtualized);
        Assert.Equal("kvm", p.Hypervisor);
        Assert.Equal("virtio_rng.0", p.HardwareRng);
        Assert.True(p.HardwareRngFromHost);
        Assert.Equal(Path.Combine(_root, "dev/hwrng"), p.HardwareRngDevice);
        Assert.Contains("cpu flag 'hypervisor'", p.Evidence);
    }

    [Fact]
    public void Xen_domU_is_named_by_sys_hypervisor_type()
    {
        Write("proc/cpuinfo", "flags\t\t: fpu sse2\n");
        Write("sys/hypervisor/type", "xen\n");
        HostPlatform p = HostPlatform.Detect(_root);
        Assert.True(p.IsVirtualized);
        Assert.Equal("xen", p.Hypervisor);
    }

    [Fact]
    public void Local_hardware_rng_is_not_host_fed_and_none_means_absent()
    {
        Write("sys/class/misc/hw_random/rng_current", "tpm-rng-0\n");
        HostPlatform p = HostPlatform.Detect(_root);
        Assert.Equal("tpm-rng-0", p.HardwareRng);
        Assert.False(p.HardwareRngFromHost);
        Assert.Null(p.HardwareRngDevice);
        Assert.NotNull(new HardwareRngSource(p).UnavailableReason);

        Write("sys/class/misc/hw_random/rng_current", "none\n");
        Assert.Null(HostPlatform.Detect(_root).HardwareRng);
    }
}

public sealed class HardwareRngSourceTests
{
    [Fact]
    public async Task Reads_this_machines_hwrng_when_the_kernel_has_one()
    {
        HostPlatform platform = HostPlatform.Detect();
        var source = new HardwareRngSource(platform);
        bool kernelHasOne = File.Exists("/sys/class/misc/hw_random/rng_current")
            && File.ReadAllText("/sys/class/misc/hw_random/rng_current").Trim() is { Length: > 0 } current && current != "none"
            && File.Exists("/dev/hwrng");
        if (!kernelHasOne)
        {
            // The other half of the contract: no device, no polling, and a reason for the status page.
            Assert.NotNull(source.UnavailableReason);
            return;
        }
        Assert.Null(source.UnavailableReason);
        // Non-blocking reads may find the device momentarily empty; a few polls must deliver.
        var buffer = new byte[32];
        var seen = new HashSet<string>();
        for (int i = 0; i < 200 && seen.Count < 3; i++)
        {
            int n = await source.GatherAsync(buffer, CancellationToken.None);
            Assert.InRange(n, 0, 32);
            if (n == 32)
            {
                seen.Add(Convert.ToHexString(buffer));
            }
            else
            {
                await Task.Delay(10);
            }
        }
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public async Task Unreadable_device_fails_with_a_reason()
    {
        var platform = new HostPlatform(true, "kvm", "virtio_rng.0", true, "/nonexistent/hwrng", []);
        var e = await Assert.ThrowsAsync<EntropySourceException>(async () => await new HardwareRngSource(platform).GatherAsync(new byte[32], default));
        Assert.Contains("/nonexistent/hwrng", e.Message);
    }
}

public sealed class JitterEntropySourceTests
{
    [Fact]
    public async Task Real_timer_yields_32_varying_bytes()
    {
        var source = new JitterEntropySource();
        var a = new byte[32];
        var b = new byte[32];
        Assert.Equal(32, await source.GatherAsync(a, default));
        Assert.Equal(32, await source.GatherAsync(b, default));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task Coarse_timer_fails_the_stuck_test()
    {
        long t = 0;
        var source = new JitterEntropySource(() => t += 1000); // perfectly regular: no jitter at all
        var e = await Assert.ThrowsAsync<EntropySourceException>(async () => await source.GatherAsync(new byte[32], default));
        Assert.Contains("repetition count", e.Message);
    }

    [Fact]
    public async Task Frozen_timer_fails()
    {
        var source = new JitterEntropySource(() => 42);
        await Assert.ThrowsAsync<EntropySourceException>(async () => await source.GatherAsync(new byte[32], default));
    }
}

public sealed class EntropyCollectorTests
{
    private sealed class ScriptedSource(string name, byte id, Func<int, int> behaviour) : EntropySource
    {
        private int _calls;
        public override string Name => name;
        public override byte SourceId => id;
        public override TimeSpan Interval => TimeSpan.FromSeconds(1);
        public override ValueTask<int> GatherAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            int n = behaviour(Interlocked.Increment(ref _calls));
            buffer.Span[..n].Fill((byte)_calls);
            return ValueTask.FromResult(n);
        }
    }

    private sealed class AbsentSource : EntropySource
    {
        public override string Name => "absent";
        public override byte SourceId => 12;
        public override TimeSpan Interval => TimeSpan.FromSeconds(1);
        public override string? UnavailableReason => "not on this machine";
        public override ValueTask<int> GatherAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("an unavailable source must never be polled");
    }

    [Fact]
    public async Task Start_up_burst_seeds_fortuna_from_one_healthy_source()
    {
        var time = new FakeTimeProvider();
        using var f = new Fortuna(time);
        await using var c = new EntropyCollector(f, [new ScriptedSource("good", 10, _ => 32), new AbsentSource()], time);
        await c.StartAsync();
        Assert.True(f.IsSeeded);
        EntropySourceHealth absent = c.Health.Single(h => h.Name == "absent");
        Assert.Equal(EntropySourceState.Unavailable, absent.State);
        Assert.Equal("not on this machine", absent.LastProblem);
        Assert.Equal(65, c.Health.Single(h => h.Name == "good").Events);
    }

    [Fact]
    public async Task Failing_source_degrades_backs_off_and_recovers_without_stopping_others()
    {
        var time = new FakeTimeProvider();
        using var f = new Fortuna(time);
        bool failing = true;
        var flaky = new ScriptedSource("flaky", 11, _ => failing ? throw new IOException("device gone") : 32);
        await using var c = new EntropyCollector(f, [new ScriptedSource("good", 10, _ => 32), flaky], time);
        await c.StartAsync();

        EntropySourceHealth h = c.Health.Single(x => x.Name == "flaky");
        Assert.Equal(EntropySourceState.Degraded, h.State);
        Assert.Equal("device gone", h.LastProblem);
        Assert.True(f.IsSeeded);
        EntropyCollector.Tracked tracked = c.TrackedSources.Single(t => t.Source.Name == "flaky");
        Assert.Equal(TimeSpan.FromSeconds(2), tracked.CurrentInterval);

        await c.PollOnceAsync(tracked, default);
        Assert.Equal(TimeSpan.FromSeconds(4), tracked.CurrentInterval);

        failing = false;
        Assert.True(await c.PollOnceAsync(tracked, default));
        h = c.Health.Single(x => x.Name == "flaky");
        Assert.Equal(EntropySourceState.Active, h.State);
        Assert.Equal(2, h.Failures);
        Assert.Equal(TimeSpan.FromSeconds(1), tracked.CurrentInterval);
    }

    [Fact]
    public async Task Sources_are_polled_on_their_schedule_in_virtual_time()
    {
        var time = new FakeTimeProvider();
        using var f = new Fortuna(time);
        await using var c = new EntropyCollector(f, [new ScriptedSource("good", 10, _ => 32)], time);
        await c.StartAsync();
        long before = c.Health[0].Events;
        for (int i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await WaitUntil(() => c.Health[0].Events >= before + i + 1);
        }
        Assert.Equal(before + 5, c.Health[0].Events);
    }

    [Fact]
    public async Task External_sink_events_reach_fortuna_and_show_in_health()
    {
        var time = new FakeTimeProvider();
        using var f = new Fortuna(time);
        await using var c = new EntropyCollector(f, [], time);
        EntropyEventSink sink = c.CreateSink("stack.packets", EntropySourceIds.NetworkPackets);
        for (int i = 0; i < 40; i++)
        {
            sink.AddTimestamp(i * 7919L);
        }
        sink.AddEvent(new byte[100]); // split into 32+32+32+4
        EntropySourceHealth h = Assert.Single(c.Health);
        Assert.Equal(EntropySourceState.External, h.State);
        Assert.Equal(44, h.Events);
        Assert.Equal(40 * 8 + 100, h.Bytes);
        Assert.True(f.GetStatus().Pool0Bytes > 0 || f.IsSeeded);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition());
    }
}
