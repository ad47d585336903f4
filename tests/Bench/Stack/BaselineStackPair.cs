using System.IO.Pipelines;
using System.Reflection;
using System.Runtime.Loader;

namespace Apps.Bench.Stack;

/// <summary>
/// Two stacks on an in-memory switch, connected by TCP, built from another build of <c>Apps.Stack.dll</c>
/// (an earlier commit) loaded into its own <see cref="AssemblyLoadContext"/>, so that a before/after
/// comparison runs in one BenchmarkDotNet run. Only the set-up goes through reflection; the measured loop
/// uses the connection's pipes, whose types the two builds share.
/// </summary>
/// <remarks>
/// Build the earlier commit somewhere (for example <c>git worktree add /tmp/before COMMIT</c>, then
/// <c>dotnet build -c Release /tmp/before/Stack</c>) and set <c>APPS_STACK_BASELINE</c> to its
/// <c>Stack/bin/Release/net10.0/Apps.Stack.dll</c>.
/// </remarks>
internal sealed class BaselineStackPair : IDisposable
{
    /// <summary>The environment variable naming the baseline build of Apps.Stack.dll.</summary>
    public const string Variable = "APPS_STACK_BASELINE";

    private readonly IDisposable _a, _b;

    private BaselineStackPair(IDisposable a, IDisposable b, PipeWriter output, PipeReader input)
    {
        _a = a;
        _b = b;
        Output = output;
        Input = input;
    }

    /// <summary>The client's sending side.</summary>
    public PipeWriter Output { get; }

    /// <summary>The server's receiving side.</summary>
    public PipeReader Input { get; }

    /// <summary>The path in <see cref="Variable"/>, or null when no baseline is configured.</summary>
    public static string? ConfiguredPath => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? path : null;

    public static async Task<BaselineStackPair> ConnectAsync(string assemblyPath)
    {
        var assembly = new AssemblyLoadContext("apps-stack-baseline").LoadFromAssemblyPath(Path.GetFullPath(assemblyPath));
        Type Type(string name) => assembly.GetType(name, throwOnError: true)!;
        var network = Activator.CreateInstance(Type("Apps.Stack.Netif.InMemorySwitch"), TimeProvider.System, 1)!;
        var a = NewStack(assembly, network, "before-a", "10.0.0.1/24");
        var b = NewStack(assembly, network, "before-b", "10.0.0.2/24");
        var tcp = Type("Apps.Stack.Tcp.NetworkStackTcp");
        var listener = await Result(tcp.GetMethod("ListenTcpAsync")!.Invoke(null, [b, (ushort)5001, 128, 256])!);
        var acceptValueTask = listener.GetType().GetMethod("AcceptAsync")!.Invoke(listener, [CancellationToken.None])!;
        var accept = (Task)acceptValueTask.GetType().GetMethod("AsTask")!.Invoke(acceptValueTask, null)!;
        var address = Type("Apps.Stack.Wire.Ipv4Address").GetMethod("Parse", [typeof(string)])!.Invoke(null, ["10.0.0.2"]);
        var client = await Result(tcp.GetMethod("ConnectTcpAsync")!.Invoke(null, [a, address, (ushort)5001, null, CancellationToken.None])!);
        var server = await Result(accept);
        return new BaselineStackPair((IDisposable)a, (IDisposable)b,
            (PipeWriter)client.GetType().GetProperty("Output")!.GetValue(client)!,
            (PipeReader)server.GetType().GetProperty("Input")!.GetValue(server)!);
    }

    private static object NewStack(Assembly assembly, object network, string name, string cidr)
    {
        var port = network.GetType().GetMethod("CreatePort")!.Invoke(network, [null])!;
        var settings = assembly.GetType("Apps.Stack.Ipv4Settings", true)!.GetMethod("Parse")!.Invoke(null, [cidr, null]);
        var optionsType = assembly.GetType("Apps.Stack.NetworkStackOptions", true)!;
        var options = Activator.CreateInstance(optionsType)!;
        optionsType.GetProperty("Name")!.SetValue(options, name);
        optionsType.GetProperty("Address")!.SetValue(options, settings);
        return Activator.CreateInstance(assembly.GetType("Apps.Stack.NetworkStack", true)!, port, options)!;
    }

    private static async Task<object> Result(object task)
    {
        await (Task)task;
        return task.GetType().GetProperty("Result")!.GetValue(task)!;
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }
}
