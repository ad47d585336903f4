namespace Apps.Http.Service.Tests;

/// <summary>One service process serving a small static tree, shared by the tests of a class.</summary>
public sealed class StaticSiteFixture : IAsyncLifetime
{
    public const string IndexHtml = "<!DOCTYPE html><html><head><title>site</title></head><body><h1>static index</h1></body></html>\n";

    private readonly DirectoryInfo _site = Directory.CreateTempSubdirectory("https-site-");

    internal ServiceProcess Service { get; private set; } = null!;

    public string SiteRoot => _site.FullName;

    /// <summary>A file next to (not inside) the site root, which traversal attempts aim at.</summary>
    public string SecretOutside => Path.Combine(Path.GetDirectoryName(_site.FullName)!, _site.Name + "-secret.txt");

    public async Task InitializeAsync()
    {
        File.WriteAllText(Path.Combine(SiteRoot, "index.html"), IndexHtml);
        File.WriteAllText(Path.Combine(SiteRoot, "style.css"), string.Concat(Enumerable.Repeat("body { color: #123456; margin: 0 auto; }\n", 400)));
        // Above the service's 1 MiB in-memory limit: compressed as it is sent, on every request.
        File.WriteAllText(Path.Combine(SiteRoot, "big.css"), string.Concat(Enumerable.Range(0, 40_000).Select(i => $".b{i} {{ padding: {i % 17}px; }}\n")));
        File.WriteAllText(Path.Combine(SiteRoot, "logo.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>\n");
        var binary = new byte[100_000];
        new Random(7).NextBytes(binary);
        File.WriteAllBytes(Path.Combine(SiteRoot, "data.bin"), binary);
        Directory.CreateDirectory(Path.Combine(SiteRoot, "docs"));
        File.WriteAllText(Path.Combine(SiteRoot, "docs", "index.html"), "<p>docs index</p>\n");
        File.WriteAllText(SecretOutside, "secret outside the root\n");
        Service = await ServiceProcess.StartAsync(null, "--root", SiteRoot);
    }

    public async Task DisposeAsync()
    {
        await Service.DisposeAsync();
        _site.Delete(recursive: true);
        File.Delete(SecretOutside);
    }
}
