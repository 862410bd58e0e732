using static Identity.Deploy.Tests.Manifests;

namespace Identity.Deploy.Tests;

/// <summary>deploy/examples: what a workload needs to authenticate to the CA.</summary>
public sealed class ExampleTests
{
    [Fact]
    public void Workload_example_projects_a_day_long_token_for_the_identity_audience_at_linkerds_path()
    {
        var pod = Yaml.ParseSingle(File.ReadAllText(Path.Combine(Tools.DeployDir, "examples", "workload-token.yaml")));
        Assert.Equal("Pod", Kind(pod));
        var spec = pod["spec"]!;

        var volume = ByName(spec["volumes"], "linkerd-identity-token");
        var source = Assert.Single(volume["projected"]!["sources"]!.AsArray())!["serviceAccountToken"]!;
        Assert.Equal("identity.l5d.io", (string?)source["audience"]);
        Assert.Equal(86400, (int)source["expirationSeconds"]!);
        Assert.Equal("linkerd-identity-token", (string?)source["path"]);

        var mount = ByName(Assert.Single(spec["containers"]!.AsArray())!["volumeMounts"], "linkerd-identity-token");
        Assert.True((bool)mount["readOnly"]!);
        // Linkerd's LINKERD2_PROXY_IDENTITY_TOKEN_FILE (spec §6).
        Assert.Equal("/var/run/secrets/tokens/linkerd-identity-token", $"{mount["mountPath"]}/{source["path"]}");
    }
}
