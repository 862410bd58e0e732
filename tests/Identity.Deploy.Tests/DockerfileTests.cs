using System.Text.Json;
using System.Xml.Linq;
using static Identity.Deploy.Tests.Manifests;

namespace Identity.Deploy.Tests;

/// <summary>
/// The Dockerfile, read rather than built (no Docker engine here), and cross-checked against the
/// project it publishes and the manifests that run it.
/// </summary>
public sealed class DockerfileTests
{
    private static readonly string DockerfilePath = Path.Combine(Tools.RepoRoot, "Dockerfile");
    private static readonly IReadOnlyList<DockerInstruction> Instructions = DockerfileReader.Parse(File.ReadAllText(DockerfilePath));
    private static readonly int FinalStage = Instructions.Max(i => i.Stage);

    private static IEnumerable<DockerInstruction> Stage(int stage) => Instructions.Where(i => i.Stage == stage);

    private static List<string> ExecForm(string arguments)
    {
        Assert.StartsWith("[", arguments, StringComparison.Ordinal);
        return JsonSerializer.Deserialize<List<string>>(arguments)!;
    }

    [Fact]
    public void Builds_in_the_sdk_image_and_runs_the_native_binary_on_a_chiseled_runtime_deps_image()
    {
        Assert.All(Stage(-1), i => Assert.Equal("ARG", i.Keyword));
        var froms = Instructions.Where(i => i.Keyword == "FROM").Select(i => i.Arguments).ToList();
        Assert.Equal(2, froms.Count);
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0 AS build", froms[0]);
        // No .NET runtime in the image: the binary is Native AOT (PublishAot in the project).
        Assert.StartsWith("mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled", froms[1], StringComparison.Ordinal);
        var csproj = XDocument.Load(Path.Combine(Tools.RepoRoot, "src", "Identity.Cli", "Identity.Cli.csproj"));
        Assert.Equal("true", Assert.Single(csproj.Descendants("PublishAot")).Value);
        Assert.Contains(Stage(0), i => i.Keyword == "RUN" && i.Arguments.Contains("clang zlib1g-dev", StringComparison.Ordinal));

        // The runtime stage takes only the publish output from the build stage.
        var copies = Stage(FinalStage).Where(i => i.Keyword == "COPY").Select(i => i.Arguments).ToList();
        Assert.Equal(["--from=build /app ./"], copies);
        Assert.Equal("/app", Stage(FinalStage).Last(i => i.Keyword == "WORKDIR").Arguments);
        Assert.DoesNotContain(Stage(FinalStage), i => i.Keyword is "RUN" or "ADD");
    }

    [Fact]
    public void Publishes_the_cli_whose_apphost_is_the_entrypoint()
    {
        var run = Assert.Single(Stage(0), i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish", StringComparison.Ordinal)).Arguments;
        Assert.StartsWith("dotnet publish src/Identity.Cli/Identity.Cli.csproj ", run, StringComparison.Ordinal);
        Assert.Contains("--configuration Release", run, StringComparison.Ordinal);
        Assert.Contains("--output /app", run, StringComparison.Ordinal);

        var csproj = XDocument.Load(Path.Combine(Tools.RepoRoot, "src", "Identity.Cli", "Identity.Cli.csproj"));
        var assemblyName = Assert.Single(csproj.Descendants("AssemblyName")).Value;
        Assert.Equal("identity", assemblyName);

        var entrypoint = ExecForm(Assert.Single(Stage(FinalStage), i => i.Keyword == "ENTRYPOINT").Arguments);
        Assert.Equal(["/app/" + assemblyName], entrypoint);
        // The manifests' args start with the same subcommand the image defaults to.
        var cmd = ExecForm(Assert.Single(Stage(FinalStage), i => i.Keyword == "CMD").Arguments);
        Assert.Equal(["serve"], cmd);
        Assert.Equal("serve", Strings(BaseContainer()["args"])[0]);
    }

    [Fact]
    public void Runs_as_the_same_fixed_non_root_uid_as_the_manifests()
    {
        var user = Assert.Single(Stage(FinalStage), i => i.Keyword == "USER").Arguments;
        var parts = user.Split(':');
        // Numeric, so the kubelet can verify runAsNonRoot without reading /etc/passwd.
        var uid = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(0, uid);

        var container = BaseContainer();
        Assert.Equal(uid, (int)container["securityContext"]!["runAsUser"]!);
        Assert.Equal(uid, (int)BasePodSpec()["securityContext"]!["runAsUser"]!);
        if (parts.Length == 2)
        {
            Assert.Equal(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), (int)BasePodSpec()["securityContext"]!["runAsGroup"]!);
        }
    }

    [Fact]
    public void Exposes_the_grpc_and_admin_ports_the_manifests_declare()
    {
        var exposed = Stage(FinalStage).Where(i => i.Keyword == "EXPOSE")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture))
            .Order()
            .ToList();
        Assert.Equal([8080, 9990], exposed);
        var declared = BaseContainer()["ports"]!.AsArray().Select(p => (int)p!["containerPort"]!).Order().ToList();
        Assert.Equal(exposed, declared);
    }

    [Fact]
    public void Build_context_holds_every_file_the_cli_build_needs()
    {
        var copied = Stage(0).Where(i => i.Keyword == "COPY")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1))
            .Select(p => p.TrimEnd('/'))
            .ToList();
        foreach (var path in copied)
        {
            Assert.True(File.Exists(Path.Combine(Tools.RepoRoot, path)) || Directory.Exists(Path.Combine(Tools.RepoRoot, path)),
                $"COPY source {path} does not exist");
        }

        var ignored = File.ReadAllLines(Path.Combine(Tools.RepoRoot, ".dockerignore"))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.TrimEnd('/'))
            .ToHashSet();
        Assert.DoesNotContain(copied, ignored.Contains);

        // Walk the Cli's project graph: every project and .proto it builds from must be inside a copied path.
        var pending = new Stack<string>([Path.Combine(Tools.RepoRoot, "src", "Identity.Cli", "Identity.Cli.csproj")]);
        var seen = new HashSet<string>();
        while (pending.TryPop(out var project))
        {
            if (!seen.Add(project))
            {
                continue;
            }

            AssertCopied(project, copied);
            var dir = Path.GetDirectoryName(project)!;
            foreach (var item in XDocument.Load(project).Descendants().Where(e => e.Name.LocalName is "ProjectReference" or "Protobuf"))
            {
                var included = Path.GetFullPath(Path.Combine(dir, item.Attribute("Include")!.Value));
                AssertCopied(included, copied);
                if (item.Name.LocalName == "ProjectReference")
                {
                    pending.Push(included);
                }
            }
        }

        Assert.Contains(seen, p => p.EndsWith("Identity.Protocol.csproj", StringComparison.Ordinal));
        foreach (var props in new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.Contains(props, copied);
        }
    }

    private static void AssertCopied(string fullPath, List<string> copied)
    {
        var relative = Path.GetRelativePath(Tools.RepoRoot, fullPath).Replace('\\', '/');
        Assert.True(copied.Any(c => relative == c || relative.StartsWith(c + "/", StringComparison.Ordinal)),
            $"{relative} is needed by the build but not copied into the build stage");
    }

    private static System.Text.Json.Nodes.JsonObject BaseDeployment() =>
        Yaml.ParseSingle(File.ReadAllText(Path.Combine(Tools.DeployDir, "base", "deployment.yaml")));

    private static System.Text.Json.Nodes.JsonObject BasePodSpec() =>
        BaseDeployment()["spec"]!["template"]!["spec"]!.AsObject();

    private static System.Text.Json.Nodes.JsonObject BaseContainer() =>
        Assert.Single(BasePodSpec()["containers"]!.AsArray())!.AsObject();
}
