using static Identity.Deploy.Tests.Manifests;

namespace Identity.Deploy.Tests;

/// <summary>The credential-free base and how overlays customise it.</summary>
public sealed class BaseTests(RenderedDeploy deploy)
{
    [Fact]
    public void Base_renders_without_credentials_and_expects_the_secret_and_config_map_to_exist()
    {
        RenderedDeploy.RequireKubectl();
        var docs = deploy.BaseDocuments;
        Assert.Empty(OfKind(docs, "Secret"));
        Assert.Empty(OfKind(docs, "ConfigMap"));
        Assert.Equal(Namespace, Name(Find(docs, "Namespace", Namespace)));
        Assert.All(docs.Where(d => Kind(d) is not ("Namespace" or "ClusterRole" or "ClusterRoleBinding")),
            d => Assert.Equal(Namespace, NamespaceOf(d)));

        var volumes = PodSpec(docs)["volumes"];
        Assert.Equal("linkerd-identity-issuer", (string?)ByName(volumes, "identity-issuer")["secret"]!["secretName"]);
        Assert.Equal("linkerd-identity-trust-roots", (string?)ByName(volumes, "trust-roots")["configMap"]!["name"]);
    }

    [Fact]
    public async Task Image_is_overridable_with_kustomize_images()
    {
        RenderedDeploy.RequireKubectl();
        var overlay = Path.Combine(deploy.DeployCopy, "overlays", "pinned-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(overlay);
        await File.WriteAllTextAsync(Path.Combine(overlay, "kustomization.yaml"), """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            resources:
              - ../west
            images:
              - name: ghcr.io/identity-mesh/identity
                newName: registry.example.com/mesh/identity
                newTag: v1.2.3
            """, TestContext.Current.CancellationToken);

        var docs = Yaml.ParseDocuments(await Tools.KustomizeAsync(overlay, TestContext.Current.CancellationToken));
        Assert.Equal("registry.example.com/mesh/identity:v1.2.3", (string?)Container(docs)["image"]);
    }

    [Fact]
    public async Task Overlay_without_credentials_fails_naming_the_missing_file()
    {
        RenderedDeploy.RequireKubectl();
        var copy = Path.Combine(deploy.WorkDir, "bare-" + Guid.NewGuid().ToString("N"));
        Tools.CopyDirectory(Tools.DeployDir, copy);
        RenderedDeploy.RemoveLocalCredentials(copy);

        var (exitCode, stdout, stderr) = await Tools.RunAsync(
            Tools.Kubectl, ["kustomize", Path.Combine(copy, "overlays", "west")], TestContext.Current.CancellationToken);

        // Never a half-rendered CA without its issuer: kustomize refuses and says what is missing.
        Assert.NotEqual(0, exitCode);
        Assert.Empty(stdout);
        Assert.True(
            stderr.Contains("ca-bundle.crt", StringComparison.Ordinal) || stderr.Contains("crt.pem", StringComparison.Ordinal),
            stderr);
    }
}
