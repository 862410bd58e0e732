using System.Text.Json.Nodes;
using static Identity.Deploy.Tests.Manifests;

namespace Identity.Deploy.Tests.Monitoring;

/// <summary>
/// deploy/monitoring as a kustomize Component in each cluster overlay, rendered with the real `kubectl kustomize`
/// the way deploy/README.md tells an operator to include it (one more line under the overlay's components:).
/// </summary>
public sealed class MonitoringComponentTests(RenderedDeploy deploy)
{
    public static TheoryData<string> Clusters => new(RenderedDeploy.Clusters);

    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task The_component_adds_the_rule_the_monitor_and_the_admin_service_in_the_overlay_namespace(string cluster)
    {
        RenderedDeploy.RequireKubectl();
        var docs = await RenderWithMonitoringAsync(cluster);

        var rule = Find(docs, "PrometheusRule", "linkerd-identity");
        var monitor = Find(docs, "ServiceMonitor", "linkerd-identity");
        var admin = Find(docs, "Service", "linkerd-identity-admin");
        Assert.All([rule, monitor, admin], d => Assert.Equal(Namespace, NamespaceOf(d)));
        Assert.All([rule, monitor, admin], d => Assert.Equal(cluster, (string?)d["metadata"]!["labels"]![ClusterLabel]));
        // kustomize passes the rules through untouched ({{ $labels.x }} templates included).
        Assert.True(JsonNode.DeepEquals(MonitoringFiles.Rules["groups"], rule["spec"]!["groups"]), "the rendered PrometheusRule's groups differ from identity-rules.yaml");

        // The monitor selects the admin Service and no other, by the Service's port name.
        var selector = monitor["spec"]!["selector"]!["matchLabels"];
        Assert.Equal(["linkerd-identity-admin"], OfKind(docs, "Service").Where(s => Selects(selector, s["metadata"]!["labels"])).Select(Name));
        var endpoint = Assert.Single(monitor["spec"]!["endpoints"]!.AsArray())!;
        Assert.Equal("/metrics", (string?)endpoint["path"]);
        var port = ByName(admin["spec"]!["ports"], (string)endpoint["port"]!);

        // That port reaches the container's admin listener: the port named by targetPort is -admin-addr's.
        var podLabels = Find(docs, "Deployment", "linkerd-identity")["spec"]!["template"]!["metadata"]!["labels"];
        Assert.True(Selects(admin["spec"]!["selector"], podLabels), "the admin Service does not select the identity pods");
        var container = Container(docs);
        var containerPort = ByName(container["ports"], (string)port["targetPort"]!);
        var adminAddr = FlagValue(Strings(container["args"]), "-admin-addr");
        Assert.Equal(Port(adminAddr), (int)containerPort["containerPort"]!);
        Assert.Equal(Port(adminAddr), (int)port["port"]!);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task The_component_changes_nothing_else_in_the_overlay(string cluster)
    {
        RenderedDeploy.RequireKubectl();
        var docs = await RenderWithMonitoringAsync(cluster);
        string[] added = ["PrometheusRule linkerd/linkerd-identity", "ServiceMonitor linkerd/linkerd-identity", "Service linkerd/linkerd-identity-admin"];

        var rest = docs.Where(d => !added.Contains(Key(d))).Select(d => d.ToJsonString()).ToList();
        Assert.Equal(deploy.Rendered(cluster).Select(d => d.ToJsonString()), rest);
    }

    private async Task<IReadOnlyList<JsonObject>> RenderWithMonitoringAsync(string cluster)
    {
        var copy = Path.Combine(deploy.WorkDir, "monitoring-" + cluster + "-" + Guid.NewGuid().ToString("N"), "deploy");
        Tools.CopyDirectory(deploy.DeployCopy, copy);
        var kustomization = Path.Combine(copy, "overlays", cluster, "kustomization.yaml");
        var text = File.ReadAllText(kustomization);
        Assert.Contains("\ncomponents:\n", text, StringComparison.Ordinal);
        File.WriteAllText(kustomization, text.Replace("\ncomponents:\n", "\ncomponents:\n  - ../../monitoring\n", StringComparison.Ordinal));
        return Yaml.ParseDocuments(await Tools.KustomizeAsync(Path.Combine(copy, "overlays", cluster), TestContext.Current.CancellationToken));
    }
}
