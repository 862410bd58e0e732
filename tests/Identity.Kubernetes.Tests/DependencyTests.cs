using System.Reflection;
using System.Text.Json;
using Identity.Server.Tokens;

namespace Identity.Kubernetes.Tests;

/// <summary>
/// Identity.Kubernetes implements the server's seams from Identity.Server.Abstractions; it must not build on the
/// server itself (ASP.NET, gRPC, the Prometheus exporter) nor on ASP.NET. Checked twice: the assembly's metadata
/// (what the compiled code uses) and this test's deps.json (every project and package reference, used or not,
/// and everything they pull in).
/// </summary>
public sealed class DependencyTests
{
    private static readonly Assembly Kubernetes = typeof(TokenValidationOptions).Assembly;
    private static readonly Assembly Abstractions = typeof(ITokenValidator).Assembly;

    [Fact]
    public void The_seams_come_from_the_abstractions_assembly()
    {
        Assert.Equal("Identity.Server.Abstractions", Abstractions.GetName().Name);
        Assert.Contains(Kubernetes.GetReferencedAssemblies(), a => a.Name == "Identity.Server.Abstractions");
    }

    [Fact]
    public void Identity_Kubernetes_references_neither_the_server_nor_AspNetCore()
    {
        var referenced = Kubernetes.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.DoesNotContain(referenced, IsForbidden);
    }

    [Fact]
    public void Identity_Kubernetes_depends_on_neither_the_server_nor_AspNetCore_even_transitively()
    {
        var closure = DependencyClosure("Identity.Kubernetes");

        Assert.Contains("Identity.Server.Abstractions", closure);
        Assert.Contains("Identity.Pki", closure);
        Assert.DoesNotContain(closure, IsForbidden);
    }

    [Fact]
    public void Identity_Server_Abstractions_references_only_the_base_library()
    {
        var referenced = Abstractions.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.NotEmpty(referenced);
        Assert.All(referenced, name => Assert.True(name.StartsWith("System.", StringComparison.Ordinal), $"{name} is referenced"));
        Assert.Equal(["Identity.Server.Abstractions"], DependencyClosure("Identity.Server.Abstractions"));
    }

    private static bool IsForbidden(string name) =>
        name == "Identity.Server"
        || name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)
        || name.StartsWith("Grpc.AspNetCore", StringComparison.Ordinal)
        || name.StartsWith("OpenTelemetry.Exporter.Prometheus", StringComparison.Ordinal);

    /// <summary><paramref name="library"/> and everything it depends on, by name, from this test's deps.json.</summary>
    private static SortedSet<string> DependencyClosure(string library)
    {
        var depsFile = Path.Combine(AppContext.BaseDirectory, "Identity.Kubernetes.Tests.deps.json");
        using var deps = JsonDocument.Parse(File.ReadAllText(depsFile));
        var runtimeTarget = deps.RootElement.GetProperty("runtimeTarget").GetProperty("name").GetString()!;
        var targets = deps.RootElement.GetProperty("targets").GetProperty(runtimeTarget);
        var byName = targets.EnumerateObject().ToDictionary(p => p.Name[..p.Name.IndexOf('/', StringComparison.Ordinal)], p => p.Value);
        Assert.True(byName.ContainsKey(library), $"{library} is not in {depsFile}");

        var closure = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([library]);
        while (pending.TryPop(out var name))
        {
            if (!closure.Add(name) || !byName.TryGetValue(name, out var entry) || !entry.TryGetProperty("dependencies", out var dependencies))
            {
                continue;
            }

            foreach (var dependency in dependencies.EnumerateObject())
            {
                pending.Push(dependency.Name);
            }
        }

        return closure;
    }
}
