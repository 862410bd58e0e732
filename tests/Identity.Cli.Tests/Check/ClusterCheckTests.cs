using static Identity.Cli.Tests.Check.CheckFixtures;

namespace Identity.Cli.Tests.Check;

/// <summary><c>identity check --context</c> against two local HTTPS doubles of the Kubernetes API.</summary>
public sealed class ClusterCheckTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("identity-cluster-check-").FullName;
    private FakeKubernetesApi _west = null!;
    private FakeKubernetesApi _east = null!;
    private string _kubeconfig = null!;

    public async ValueTask InitializeAsync()
    {
        _west = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);
        _east = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);
        _kubeconfig = FakeKubernetesApi.WriteKubeconfig(
            Path.Combine(_dir, "kubeconfig"),
            new Dictionary<string, FakeKubernetesApi> { ["west"] = _west, ["east"] = _east });
    }

    public async ValueTask DisposeAsync()
    {
        await _west.DisposeAsync();
        await _east.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static void Install(FakeKubernetesApi api, TestCredential issuer, string anchorsPem, bool external = false)
    {
        api.SetSecret("linkerd", "linkerd-identity-issuer", external ? "kubernetes.io/tls" : null, external
            ? new Dictionary<string, string> { ["tls.crt"] = issuer.CertificatePem, ["tls.key"] = issuer.KeyPem, ["ca.crt"] = anchorsPem }
            : new Dictionary<string, string> { ["crt.pem"] = issuer.CertificatePem, ["key.pem"] = issuer.KeyPem });
        api.SetConfigMap("linkerd", "linkerd-identity-trust-roots", new Dictionary<string, string> { ["ca-bundle.crt"] = anchorsPem.Trim() });
    }

    private Task<CliResult> CheckAsync(params string[] args) =>
        IdentityCli.RunAsync(new[] { "check", "--kubeconfig", _kubeconfig, "-o", "json" }.Concat(args).ToArray());

    [Fact]
    public async Task Single_context_reads_the_secret_and_configmap_and_passes()
    {
        var root = Ca.Root();
        Install(_west, Ca.Intermediate(root), root.CertificatePem);

        var result = await CheckAsync("--context", "west");

        var rows = CheckCommandTests.ParseRows(result.Stdout);
        Assert.Equal(11, rows.Count);
        Assert.All(rows, r => Assert.Equal("ok", r.Status));
        Assert.Contains("context west, configmap linkerd/linkerd-identity-trust-roots key ca-bundle.crt", rows[0].Message, StringComparison.Ordinal);
        Assert.Contains("/api/v1/namespaces/linkerd/secrets/linkerd-identity-issuer", _west.Requests);
        Assert.Contains("/api/v1/namespaces/linkerd/configmaps/linkerd-identity-trust-roots", _west.Requests);
        Assert.Empty(_east.Requests);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Single_context_with_an_external_kubernetes_tls_secret_and_a_foreign_issuer_fails()
    {
        var root = Ca.Root("root-a");
        var issuer = Ca.Intermediate(Ca.Root("root-b"));
        Install(_west, issuer, root.CertificatePem, external: true);

        var result = await CheckAsync("--context", "west");

        var rows = CheckCommandTests.ParseRows(result.Stdout);
        Assert.Contains("key tls.crt", rows[0].Message, StringComparison.Ordinal);
        Assert.Equal(("issuer cert is issued by the trust anchor", "error"), rows.Select(r => (r.Name, r.Status)).Single(r => r.Status != "ok"));
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Missing_configmap_fails_the_config_check()
    {
        var issuer = Ca.Intermediate(Ca.Root());
        _west.SetSecret("linkerd", "linkerd-identity-issuer", null,
            new Dictionary<string, string> { ["crt.pem"] = issuer.CertificatePem, ["key.pem"] = issuer.KeyPem });

        var result = await CheckAsync("--context", "west");

        var row = Assert.Single(CheckCommandTests.ParseRows(result.Stdout));
        Assert.Equal(("certificate config is valid", "error", "configmap linkerd-identity-trust-roots not found in namespace linkerd"), row);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Unknown_context_fails_the_config_check_with_a_clear_message()
    {
        var result = await CheckAsync("--context", "north");

        var row = Assert.Single(CheckCommandTests.ParseRows(result.Stdout));
        Assert.Equal("error", row.Status);
        Assert.StartsWith("context 'north' does not exist in kubeconfig", row.Message, StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Multicluster_with_a_shared_anchor_and_per_cluster_issuers_passes()
    {
        var root = Ca.Root();
        Install(_west, Ca.Intermediate(root, "identity.west"), root.CertificatePem);
        Install(_east, Ca.Intermediate(root, "identity.east"), root.CertificatePem);

        var result = await CheckAsync("--multicluster", "--context", "west", "--context", "east");

        var multi = CheckCommandTests.ParseRows(result.Stdout, "linkerd-identity-multicluster");
        Assert.Equal(
            [("clusters share trust anchors", "ok", "west, east mount the same 1 trust anchor(s)"),
             ("each cluster's issuer chains to the trust anchors of every other cluster", "ok", "every issuer verifies against the anchors of every other cluster")],
            multi);
        Assert.Equal(11, CheckCommandTests.ParseRows(result.Stdout, "linkerd-identity (west)").Count);
        Assert.Equal(11, CheckCommandTests.ParseRows(result.Stdout, "linkerd-identity (east)").Count);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Multicluster_with_different_anchors_lists_what_each_side_lacks()
    {
        var rootA = Ca.Root("root-a");
        var rootB = Ca.Root("root-b");
        Install(_west, Ca.Intermediate(rootA, "identity.west"), rootA.CertificatePem);
        Install(_east, Ca.Intermediate(rootB, "identity.east"), rootB.CertificatePem);

        var result = await CheckAsync("--multicluster", "--context", "west", "--context", "east");

        var multi = CheckCommandTests.ParseRows(result.Stdout, "linkerd-identity-multicluster");
        Assert.Equal(
            ("clusters share trust anchors", "error",
             "the clusters mount different trust anchors (configmap linkerd-identity-trust-roots):\n" +
             $"* west lacks CN=root-b (sha256 {Sha256(rootB.Certificate)}), present in east\n" +
             $"* east lacks CN=root-a (sha256 {Sha256(rootA.Certificate)}), present in west"),
            multi[0]);
        Assert.Equal("error", multi[1].Status);
        Assert.Contains("* the issuer of west is not trusted by east:", multi[1].Message, StringComparison.Ordinal);
        Assert.Contains("* the issuer of east is not trusted by west:", multi[1].Message, StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Multicluster_mid_rotation_flags_the_cluster_missing_the_new_root_and_the_issuer_it_cannot_verify()
    {
        var oldRoot = Ca.Root("root-old");
        var newRoot = Ca.Root("root-new");
        // west already bundles old+new and issues from the new root; east still trusts only the old root.
        Install(_west, Ca.Intermediate(newRoot, "identity.west"), oldRoot.CertificatePem + newRoot.CertificatePem);
        Install(_east, Ca.Intermediate(oldRoot, "identity.east"), oldRoot.CertificatePem);

        var result = await CheckAsync("--multicluster", "--context", "west", "--context", "east", "-n", "linkerd");

        var multi = CheckCommandTests.ParseRows(result.Stdout, "linkerd-identity-multicluster");
        Assert.Equal($"the clusters mount different trust anchors (configmap linkerd-identity-trust-roots):\n* east lacks CN=root-new (sha256 {Sha256(newRoot.Certificate)}), present in west", multi[0].Message);
        var lines = multi[1].Message.Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("* the issuer of west is not trusted by east: certificate signed by unknown authority", lines[1], StringComparison.Ordinal);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Multicluster_compares_three_clusters()
    {
        await using var north = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);
        var kubeconfig = FakeKubernetesApi.WriteKubeconfig(
            Path.Combine(_dir, "three"),
            new Dictionary<string, FakeKubernetesApi> { ["west"] = _west, ["east"] = _east, ["north"] = north });
        var shared = Ca.Root("root-shared");
        var stray = Ca.Root("root-stray");
        Install(_west, Ca.Intermediate(shared, "identity.west"), shared.CertificatePem);
        Install(_east, Ca.Intermediate(shared, "identity.east"), shared.CertificatePem);
        Install(north, Ca.Intermediate(shared, "identity.north"), shared.CertificatePem + stray.CertificatePem);

        var result = await IdentityCli.RunAsync("check", "--kubeconfig", kubeconfig, "-o", "json", "--multicluster", "--context", "west", "--context", "east", "--context", "north");

        var multi = CheckCommandTests.ParseRows(result.Stdout, "linkerd-identity-multicluster");
        Assert.Equal(
            "the clusters mount different trust anchors (configmap linkerd-identity-trust-roots):\n" +
            $"* west lacks CN=root-stray (sha256 {Sha256(stray.Certificate)}), present in north\n" +
            $"* east lacks CN=root-stray (sha256 {Sha256(stray.Certificate)}), present in north",
            multi[0].Message);
        // Every issuer still chains to a root every cluster trusts, so cross-cluster mTLS works.
        Assert.Equal("ok", multi[1].Status);
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Multicluster_with_an_unreadable_cluster_cannot_compare()
    {
        var root = Ca.Root();
        Install(_west, Ca.Intermediate(root), root.CertificatePem);

        var result = await CheckAsync("--multicluster", "--context", "west", "--context", "east");

        var east = Assert.Single(CheckCommandTests.ParseRows(result.Stdout, "linkerd-identity (east)"));
        Assert.Equal("error", east.Status);
        var multi = CheckCommandTests.ParseRows(result.Stdout, "linkerd-identity-multicluster");
        Assert.All(multi, m => Assert.Equal("cannot compare clusters: the identity credentials of east could not be loaded (see above)", m.Message));
        Assert.Equal(1, result.ExitCode);
    }

    [Fact]
    public async Task Table_output_shows_a_category_per_cluster()
    {
        var root = Ca.Root();
        Install(_west, Ca.Intermediate(root), root.CertificatePem);
        Install(_east, Ca.Intermediate(root), root.CertificatePem);

        var result = await IdentityCli.RunAsync("check", "--kubeconfig", _kubeconfig, "--multicluster", "--context", "west", "--context", "east");

        Assert.Contains("linkerd-identity (west)\n-----------------------\n√ certificate config is valid", result.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("linkerd-identity-multicluster\n-----------------------------\n√ clusters share trust anchors", result.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.EndsWith("Status check results are √\n", result.Stdout.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }
}
