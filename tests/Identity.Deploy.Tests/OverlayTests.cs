using System.Text;
using System.Text.Json.Nodes;
using static Identity.Deploy.Tests.Manifests;

namespace Identity.Deploy.Tests;

/// <summary>What each cluster overlay renders, checked object by object.</summary>
public sealed class OverlayTests(RenderedDeploy deploy)
{
    public static TheoryData<string> Clusters => new(RenderedDeploy.Clusters);

    private const string IssuerDir = "/var/run/linkerd/identity/issuer";
    private const string TrustRootsDir = "/var/run/linkerd/identity/trust-roots";
    private const int Uid = 2103;

    // Linkerd's chart flags (spec §5) plus our explicit trust-anchors path.
    private static readonly string[] ExpectedArgs =
    [
        "serve",
        "-addr", ":8080",
        "-admin-addr", ":9990",
        "-controller-namespace", "linkerd",
        "-identity-trust-domain", "cluster.local",
        "-identity-scheme", "linkerd.io/tls",
        "-identity-issuance-lifetime", "24h0m0s",
        "-identity-clock-skew-allowance", "20s",
        "-issuer", IssuerDir,
        "-identity-trust-anchors-file", TrustRootsDir + "/ca-bundle.crt",
    ];

    private static readonly string[] ExpectedObjects =
    [
        "Namespace /linkerd",
        "ServiceAccount linkerd/linkerd-identity",
        "ClusterRole /linkerd-linkerd-identity",
        "ClusterRoleBinding /linkerd-linkerd-identity",
        "ConfigMap linkerd/linkerd-identity-trust-roots",
        "Secret linkerd/linkerd-identity-issuer",
        "Service linkerd/linkerd-identity",
        "Service linkerd/linkerd-identity-headless",
        "Deployment linkerd/linkerd-identity",
        "PodDisruptionBudget linkerd/linkerd-identity",
    ];

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Renders_exactly_the_expected_objects(string cluster)
    {
        var keys = deploy.Rendered(cluster).Select(Key).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(ExpectedObjects.Order(StringComparer.Ordinal), keys);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void ClusterRole_grants_only_tokenreviews_selfsubjectaccessreviews_and_events(string cluster)
    {
        var docs = deploy.Rendered(cluster);
        Assert.Empty(OfKind(docs, "Role"));
        Assert.Empty(OfKind(docs, "RoleBinding"));
        Assert.Single(OfKind(docs, "ClusterRole"));

        var role = Find(docs, "ClusterRole", "linkerd-linkerd-identity");
        // An aggregation rule would let other roles' rules flow into this one.
        Assert.Null(role["aggregationRule"]);
        var rules = role["rules"]!.AsArray();
        var granted = rules
            .SelectMany(rule =>
            {
                Assert.Null(rule!["resourceNames"]);
                Assert.Null(rule["nonResourceURLs"]);
                var groups = Strings(rule["apiGroups"]);
                var resources = Strings(rule["resources"]);
                var verbs = Strings(rule["verbs"]);
                Assert.DoesNotContain("*", groups.Concat(resources).Concat(verbs));
                return from g in groups from r in resources from v in verbs select $"{g}/{r}:{v}";
            })
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(
            [
                "/events:create",
                "/events:patch",
                "authentication.k8s.io/tokenreviews:create",
                "authorization.k8s.io/selfsubjectaccessreviews:create",
            ],
            granted);
        Assert.DoesNotContain(granted, g => g.Contains("secrets", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void ClusterRoleBinding_binds_the_role_to_the_identity_service_account_only(string cluster)
    {
        var docs = deploy.Rendered(cluster);
        var binding = Find(docs, "ClusterRoleBinding", "linkerd-linkerd-identity");
        Assert.Equal("ClusterRole", (string?)binding["roleRef"]!["kind"]);
        Assert.Equal("linkerd-linkerd-identity", (string?)binding["roleRef"]!["name"]);
        var subject = Assert.Single(binding["subjects"]!.AsArray())!;
        Assert.Equal("ServiceAccount", (string?)subject["kind"]);
        Assert.Equal("linkerd-identity", (string?)subject["name"]);
        Assert.Equal(Namespace, (string?)subject["namespace"]);

        Assert.Equal("linkerd-identity", (string?)PodSpec(docs)["serviceAccountName"]);
        Assert.False((bool)Find(docs, "ServiceAccount", "linkerd-identity")["automountServiceAccountToken"]!);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Container_runs_serve_with_linkerds_flags_and_ports(string cluster)
    {
        var container = Container(deploy.Rendered(cluster));
        var args = Strings(container["args"]);
        Assert.Equal(ExpectedArgs, args);
        Assert.Null(container["command"]);
        Assert.Equal("ghcr.io/identity-mesh/identity:latest", (string?)container["image"]);

        var ports = container["ports"]!.AsArray();
        Assert.Equal(2, ports.Count);
        Assert.Equal(Port(FlagValue(args, "-addr")), (int)ByName(ports, "ident-grpc")["containerPort"]!);
        Assert.Equal(Port(FlagValue(args, "-admin-addr")), (int)ByName(ports, "ident-admin")["containerPort"]!);
        Assert.Equal(8080, (int)ByName(ports, "ident-grpc")["containerPort"]!);
        Assert.Equal(9990, (int)ByName(ports, "ident-admin")["containerPort"]!);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Probes_hit_ping_and_ready_on_the_admin_port(string cluster)
    {
        var container = Container(deploy.Rendered(cluster));
        var adminPort = Port(FlagValue(Strings(container["args"]), "-admin-addr"));

        var liveness = container["livenessProbe"]!;
        Assert.Equal("/ping", (string?)liveness["httpGet"]!["path"]);
        Assert.Equal(adminPort, (int)liveness["httpGet"]!["port"]!);

        var readiness = container["readinessProbe"]!;
        Assert.Equal("/ready", (string?)readiness["httpGet"]!["path"]);
        Assert.Equal(adminPort, (int)readiness["httpGet"]!["port"]!);
        Assert.Equal(7, (int)readiness["failureThreshold"]!);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Issuer_and_trust_roots_are_mounted_read_only_where_the_flags_point(string cluster)
    {
        var docs = deploy.Rendered(cluster);
        var pod = PodSpec(docs);
        var container = Container(docs);
        var args = Strings(container["args"]);
        var mounts = container["volumeMounts"]!;
        var volumes = pod["volumes"]!;

        var issuerMount = ByName(mounts, "identity-issuer");
        Assert.Equal(IssuerDir, (string?)issuerMount["mountPath"]);
        Assert.Equal(FlagValue(args, "-issuer"), (string?)issuerMount["mountPath"]);
        Assert.True((bool)issuerMount["readOnly"]!);
        // A subPath mount would never see the kubelet's ..data swap, so rotation would go unnoticed.
        Assert.Null(issuerMount["subPath"]);
        Assert.Equal("linkerd-identity-issuer", (string?)ByName(volumes, "identity-issuer")["secret"]!["secretName"]);

        var trustMount = ByName(mounts, "trust-roots");
        Assert.Equal(TrustRootsDir, (string?)trustMount["mountPath"]);
        Assert.True((bool)trustMount["readOnly"]!);
        Assert.Null(trustMount["subPath"]);
        var configMap = ByName(volumes, "trust-roots")["configMap"]!;
        Assert.Equal("linkerd-identity-trust-roots", (string?)configMap["name"]);
        var item = Assert.Single(configMap["items"]!.AsArray())!;
        Assert.Equal("ca-bundle.crt", (string?)item["key"]);
        Assert.Equal(FlagValue(args, "-identity-trust-anchors-file"), $"{trustMount["mountPath"]}/{item["path"]}");

        var tmp = ByName(mounts, "tmp");
        Assert.Equal("/tmp", (string?)tmp["mountPath"]);
        Assert.NotEqual(true, (bool?)tmp["readOnly"]);
        Assert.NotNull(ByName(volumes, "tmp")["emptyDir"]);

        // Every mount has a volume and every volume is mounted.
        Assert.Equal(
            mounts.AsArray().Select(m => (string)m!["name"]!).Order(StringComparer.Ordinal),
            volumes.AsArray().Select(v => (string)v!["name"]!).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Api_token_is_projected_by_hand_with_linkerds_lifetime(string cluster)
    {
        var docs = deploy.Rendered(cluster);
        var pod = PodSpec(docs);
        Assert.False((bool)pod["automountServiceAccountToken"]!);

        var mount = ByName(Container(docs)["volumeMounts"], "kube-api-access");
        Assert.Equal("/var/run/secrets/kubernetes.io/serviceaccount", (string?)mount["mountPath"]);
        Assert.True((bool)mount["readOnly"]!);

        var sources = ByName(pod["volumes"], "kube-api-access")["projected"]!["sources"]!.AsArray();
        var token = Assert.Single(sources, s => s!["serviceAccountToken"] is not null)!["serviceAccountToken"]!;
        Assert.Equal(3607, (int)token["expirationSeconds"]!);
        Assert.Equal("token", (string?)token["path"]);
        // No audience: this token is for the API server (TokenReview, events), not for the CA.
        Assert.Null(token["audience"]);

        var rootCa = Assert.Single(sources, s => s!["configMap"] is not null)!["configMap"]!;
        Assert.Equal("kube-root-ca.crt", (string?)rootCa["name"]);
        Assert.Equal("ca.crt", (string?)Assert.Single(rootCa["items"]!.AsArray())!["path"]);

        var downward = Assert.Single(sources, s => s!["downwardAPI"] is not null)!["downwardAPI"]!;
        var ns = Assert.Single(downward["items"]!.AsArray())!;
        Assert.Equal("namespace", (string?)ns["path"]);
        Assert.Equal("metadata.namespace", (string?)ns["fieldRef"]!["fieldPath"]);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Security_context_is_non_root_read_only_and_drops_all_capabilities(string cluster)
    {
        var docs = deploy.Rendered(cluster);
        var pod = PodSpec(docs);
        var podContext = pod["securityContext"]!;
        Assert.True((bool)podContext["runAsNonRoot"]!);
        Assert.Equal(Uid, (int)podContext["runAsUser"]!);
        Assert.Equal("RuntimeDefault", (string?)podContext["seccompProfile"]!["type"]);
        Assert.Null(pod["hostNetwork"]);
        Assert.Null(pod["hostPID"]);

        var context = Container(docs)["securityContext"]!;
        Assert.False((bool)context["allowPrivilegeEscalation"]!);
        Assert.True((bool)context["readOnlyRootFilesystem"]!);
        Assert.True((bool)context["runAsNonRoot"]!);
        Assert.Equal(Uid, (int)context["runAsUser"]!);
        Assert.Equal(["ALL"], Strings(context["capabilities"]!["drop"]));
        Assert.Null(context["capabilities"]!["add"]);
        Assert.Null(context["privileged"]);
        Assert.Equal("RuntimeDefault", (string?)context["seccompProfile"]!["type"]);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Deployment_is_replicated_spread_and_sized(string cluster)
    {
        var docs = deploy.Rendered(cluster);
        var deployment = Find(docs, "Deployment", "linkerd-identity");
        var template = deployment["spec"]!["template"]!;
        Assert.True((int)deployment["spec"]!["replicas"]! >= 2);
        Assert.True(Selects(deployment["spec"]!["selector"]!["matchLabels"], template["metadata"]!["labels"]));

        var terms = template["spec"]!["affinity"]!["podAntiAffinity"]!["preferredDuringSchedulingIgnoredDuringExecution"]!.AsArray();
        var term = Assert.Single(terms)!["podAffinityTerm"]!;
        Assert.Equal("kubernetes.io/hostname", (string?)term["topologyKey"]);
        Assert.True(Selects(term["labelSelector"]!["matchLabels"], template["metadata"]!["labels"]));
        Assert.Null(template["spec"]!["affinity"]!["podAntiAffinity"]!["requiredDuringSchedulingIgnoredDuringExecution"]);

        var resources = Container(docs)["resources"]!;
        Assert.NotNull(resources["requests"]!["cpu"]);
        Assert.NotNull(resources["requests"]!["memory"]);
        Assert.NotNull(resources["limits"]!["memory"]);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Services_expose_grpc_8080_and_the_headless_one_has_no_cluster_ip(string cluster)
    {
        var docs = deploy.Rendered(cluster);
        var template = Find(docs, "Deployment", "linkerd-identity")["spec"]!["template"]!;
        var containerPorts = Container(docs)["ports"]!;

        foreach (var name in new[] { "linkerd-identity", "linkerd-identity-headless" })
        {
            var spec = Find(docs, "Service", name)["spec"]!;
            Assert.True(Selects(spec["selector"], template["metadata"]!["labels"]), $"{name} selects no identity pod");
            var port = Assert.Single(spec["ports"]!.AsArray())!;
            Assert.Equal("grpc", (string?)port["name"]);
            Assert.Equal(8080, (int)port["port"]!);
            var target = port["targetPort"]!;
            var targetPort = target.GetValueKind() == System.Text.Json.JsonValueKind.String
                ? (int)ByName(containerPorts, (string)target!)["containerPort"]!
                : (int)target;
            Assert.Equal(8080, targetPort);
        }

        Assert.Equal("None", (string?)Find(docs, "Service", "linkerd-identity-headless")["spec"]!["clusterIP"]);
        Assert.Null(Find(docs, "Service", "linkerd-identity")["spec"]!["clusterIP"]);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Disruption_budget_keeps_a_ca_up_during_drains(string cluster)
    {
        var docs = deploy.Rendered(cluster);
        var spec = Find(docs, "PodDisruptionBudget", "linkerd-identity")["spec"]!;
        var template = Find(docs, "Deployment", "linkerd-identity")["spec"]!["template"]!;
        Assert.True(Selects(spec["selector"]!["matchLabels"], template["metadata"]!["labels"]));
        var replicas = (int)Find(docs, "Deployment", "linkerd-identity")["spec"]!["replicas"]!;
        var budgetKeepsOne = (int?)spec["maxUnavailable"] is { } maxUnavailable
            ? replicas - maxUnavailable >= 1
            : (int?)spec["minAvailable"] >= 1;
        Assert.True(budgetKeepsOne, $"PDB {spec.ToJsonString()} may evict every replica");
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Every_object_is_labelled_with_its_cluster_but_no_selector_is(string cluster)
    {
        var docs = deploy.Rendered(cluster);
        foreach (var doc in docs)
        {
            Assert.Equal(cluster, (string?)doc["metadata"]!["labels"]?[ClusterLabel]);
            Assert.Equal(cluster, (string?)doc["metadata"]!["annotations"]?[ClusterLabel]);
        }

        var deployment = Find(docs, "Deployment", "linkerd-identity");
        Assert.Equal(cluster, (string?)deployment["spec"]!["template"]!["metadata"]!["labels"]![ClusterLabel]);
        // Deployment selectors are immutable; a per-cluster selector could not take over an existing one.
        Assert.Null(deployment["spec"]!["selector"]!["matchLabels"]![ClusterLabel]);
        Assert.Null(Find(docs, "Service", "linkerd-identity")["spec"]!["selector"]![ClusterLabel]);
        Assert.Null(Find(docs, "PodDisruptionBudget", "linkerd-identity")["spec"]!["selector"]!["matchLabels"]![ClusterLabel]);
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Issuer_secret_holds_this_clusters_files_under_the_linkerd_tls_scheme_names(string cluster)
    {
        var docs = deploy.Rendered(cluster);
        Assert.Equal("linkerd.io/tls", FlagValue(Strings(Container(docs)["args"]), "-identity-scheme"));

        var secret = Find(docs, "Secret", "linkerd-identity-issuer");
        Assert.Equal("Opaque", (string?)secret["type"]);
        var data = StringMap(secret["data"]);
        Assert.Equal(["crt.pem", "key.pem"], data.Keys.Order(StringComparer.Ordinal));

        var (crt, key) = deploy.Issuer(cluster);
        Assert.Equal(crt, Encoding.UTF8.GetString(Convert.FromBase64String(data["crt.pem"])));
        Assert.Equal(key, Encoding.UTF8.GetString(Convert.FromBase64String(data["key.pem"])));
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Trust_roots_config_map_holds_the_shared_bundle_byte_for_byte(string cluster)
    {
        var configMap = Find(deploy.Rendered(cluster), "ConfigMap", "linkerd-identity-trust-roots");
        var data = StringMap(configMap["data"]);
        Assert.Equal(["ca-bundle.crt"], data.Keys);
        // Linkerd's PEM reader rejects a bundle with an extra blank line; the generator must not alter it.
        Assert.Equal(deploy.TrustBundlePem, data["ca-bundle.crt"]);
        Assert.Null(configMap["binaryData"]);
    }
}
