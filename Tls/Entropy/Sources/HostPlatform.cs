namespace Apps.Tls.Entropy.Sources;

/// <summary>
/// What this machine is, as far as entropy goes: virtualized or not, which hypervisor, and
/// which hardware RNG the kernel exposes (a host-fed one such as virtio-rng is today's form
/// of "entropy from dom0").
/// </summary>
/// <param name="IsVirtualized">A hypervisor was detected.</param>
/// <param name="Hypervisor">Its name when known (<c>xen</c>, <c>kvm</c>, <c>vmware</c>, ...).</param>
/// <param name="HardwareRng">The kernel's current hw_random device, e.g. <c>virtio_rng.0</c>.</param>
/// <param name="HardwareRngFromHost">True when that device is fed by the hypervisor host.</param>
/// <param name="HardwareRngDevice">The character device to read, e.g. <c>/dev/hwrng</c>, when present.</param>
/// <param name="Evidence">The facts the verdict rests on, for status displays.</param>
public sealed record HostPlatform(
    bool IsVirtualized,
    string? Hypervisor,
    string? HardwareRng,
    bool HardwareRngFromHost,
    string? HardwareRngDevice,
    IReadOnlyList<string> Evidence)
{
    /// <summary>
    /// Detects the platform from procfs and sysfs under <paramref name="root"/> ("/" normally;
    /// tests pass a directory laid out like one).
    /// </summary>
    public static HostPlatform Detect(string root = "/")
    {
        var evidence = new List<string>();
        bool virtualized = false;
        string? hypervisor = null;

        if (ReadFirstLineStartingWith(Path.Combine(root, "proc/cpuinfo"), "flags") is { } flags
            && flags.Split([' ', '\t', ':'], StringSplitOptions.RemoveEmptyEntries).Contains("hypervisor"))
        {
            virtualized = true;
            evidence.Add("cpu flag 'hypervisor'");
        }
        if (ReadTrimmed(Path.Combine(root, "sys/hypervisor/type")) is { Length: > 0 } type)
        {
            virtualized = true;
            hypervisor = type;
            evidence.Add($"/sys/hypervisor/type = {type}");
        }
        if (hypervisor is null && virtualized
            && ReadTrimmed(Path.Combine(root, "sys/class/dmi/id/sys_vendor")) is { Length: > 0 } vendor)
        {
            hypervisor = HypervisorFromVendor(vendor, ReadTrimmed(Path.Combine(root, "sys/class/dmi/id/product_name")));
            evidence.Add($"dmi vendor = {vendor}");
        }

        if (hypervisor is null && virtualized && root == "/" && CpuidHypervisorVendor() is { } signature)
        {
            hypervisor = HypervisorFromVendor(signature, null);
            evidence.Add($"cpuid hypervisor signature = {signature}");
        }

        string? rng = ReadTrimmed(Path.Combine(root, "sys/class/misc/hw_random/rng_current"));
        if (rng is "none" or "")
        {
            rng = null;
        }
        bool fromHost = rng is not null && IsHostFed(rng);
        if (rng is not null)
        {
            evidence.Add($"hw_random current = {rng}");
        }
        string devicePath = Path.Combine(root, "dev/hwrng");
        string? device = rng is not null && File.Exists(devicePath) ? devicePath : null;
        return new HostPlatform(virtualized, hypervisor, rng, fromHost, device, evidence);
    }

    // CPUID leaf 0x40000000 carries the hypervisor's 12-byte signature in EBX, ECX, EDX
    // ("KVMKVMKVM", "Microsoft Hv", "VMwareVMware", "XenVMMXenVMM", ...).
    private static string? CpuidHypervisorVendor()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported)
        {
            return null;
        }
        (int _, int ebx, int ecx, int edx) = System.Runtime.Intrinsics.X86.X86Base.CpuId(0x40000000, 0);
        Span<byte> bytes = stackalloc byte[12];
        BitConverter.TryWriteBytes(bytes, ebx);
        BitConverter.TryWriteBytes(bytes[4..], ecx);
        BitConverter.TryWriteBytes(bytes[8..], edx);
        string signature = System.Text.Encoding.ASCII.GetString(bytes).TrimEnd('\0').Trim();
        return signature.Length > 0 && signature.All(c => c is >= ' ' and <= '~') ? signature : null;
    }

    // Drivers whose bytes come from the hypervisor host rather than from this machine's own silicon.
    private static bool IsHostFed(string rng) =>
        rng.StartsWith("virtio_rng", StringComparison.Ordinal)
        || rng.StartsWith("xen", StringComparison.OrdinalIgnoreCase)
        || rng.StartsWith("vmgenid", StringComparison.Ordinal);

    private static string HypervisorFromVendor(string vendor, string? product)
    {
        string v = vendor.ToLowerInvariant();
        return v switch
        {
            _ when v.Contains("kvm") || v.Contains("qemu") || (product?.Contains("KVM", StringComparison.OrdinalIgnoreCase) ?? false) => "kvm",
            _ when v.Contains("vmware") => "vmware",
            _ when v.Contains("xen") => "xen",
            _ when v.Contains("microsoft") => "hyper-v",
            _ when v.Contains("innotek") || v.Contains("oracle") => "virtualbox",
            _ when v.Contains("amazon") => "kvm",
            _ when v.Contains("google") => "kvm",
            _ => vendor,
        };
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ReadFirstLineStartingWith(string path, string prefix)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }
            foreach (string line in File.ReadLines(path))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
