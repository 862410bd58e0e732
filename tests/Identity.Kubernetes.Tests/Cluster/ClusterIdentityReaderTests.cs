using System.Net;
using Identity.Kubernetes.Cluster;

namespace Identity.Kubernetes.Tests.Cluster;

public sealed class ClusterIdentityReaderTests : IAsyncLifetime
{
    private const string CertPem = "-----BEGIN CERTIFICATE-----\nissuer\n-----END CERTIFICATE-----\n";
    private const string KeyPem = "-----BEGIN EC PRIVATE KEY-----\nkey\n-----END EC PRIVATE KEY-----\n";
    private const string AnchorsPem = "-----BEGIN CERTIFICATE-----\nanchor\n-----END CERTIFICATE-----";

    private readonly string _dir = Directory.CreateTempSubdirectory("identity-cluster-").FullName;
    private FakeKubernetesApi _api = null!;
    private string _kubeconfig = null!;

    public async ValueTask InitializeAsync()
    {
        _api = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);
        _kubeconfig = FakeKubernetesApi.WriteKubeconfig(Path.Combine(_dir, "config"), new Dictionary<string, FakeKubernetesApi> { ["west"] = _api });
    }

    public async ValueTask DisposeAsync()
    {
        await _api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<ClusterIdentityMaterial> ReadAsync(string? scheme = null, string ns = "linkerd")
    {
        using var client = KubernetesClientFactory.CreateForContext(_kubeconfig, "west");
        return await new ClusterIdentityReader(client, "west").ReadAsync(ns, scheme, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Reads_linkerd_scheme_secret_and_trust_roots_over_https_with_the_kubeconfig_ca()
    {
        _api.SetSecret("linkerd", LinkerdIdentityObjects.IssuerSecretName, null, new Dictionary<string, string> { ["crt.pem"] = CertPem, ["key.pem"] = KeyPem });
        _api.SetConfigMap("linkerd", LinkerdIdentityObjects.TrustRootsConfigMapName, new Dictionary<string, string> { ["ca-bundle.crt"] = AnchorsPem });

        var material = await ReadAsync();

        Assert.Equal("linkerd.io/tls", material.Scheme);
        Assert.Equal(CertPem, material.IssuerCertificatePem);
        Assert.Equal(KeyPem, material.IssuerKeyPem);
        Assert.Equal(AnchorsPem, material.TrustAnchorsPem);
        Assert.Empty(material.Problems);
        Assert.Equal(
            ["/api/v1/namespaces/linkerd/secrets/linkerd-identity-issuer", "/api/v1/namespaces/linkerd/configmaps/linkerd-identity-trust-roots"],
            _api.Requests);
    }

    [Fact]
    public async Task Detects_kubernetes_tls_scheme_from_the_secret_type()
    {
        _api.SetSecret("linkerd", LinkerdIdentityObjects.IssuerSecretName, "kubernetes.io/tls",
            new Dictionary<string, string> { ["tls.crt"] = CertPem, ["tls.key"] = KeyPem, ["ca.crt"] = AnchorsPem });
        _api.SetConfigMap("linkerd", LinkerdIdentityObjects.TrustRootsConfigMapName, new Dictionary<string, string> { ["ca-bundle.crt"] = AnchorsPem });

        var material = await ReadAsync();

        Assert.Equal("kubernetes.io/tls", material.Scheme);
        Assert.Equal(CertPem, material.IssuerCertificatePem);
        Assert.Equal(KeyPem, material.IssuerKeyPem);
    }

    [Fact]
    public async Task Detects_kubernetes_tls_scheme_from_opaque_secret_keys()
    {
        _api.SetSecret("linkerd", LinkerdIdentityObjects.IssuerSecretName, null, new Dictionary<string, string> { ["tls.crt"] = CertPem, ["tls.key"] = KeyPem });
        _api.SetConfigMap("linkerd", LinkerdIdentityObjects.TrustRootsConfigMapName, new Dictionary<string, string> { ["ca-bundle.crt"] = AnchorsPem });

        var material = await ReadAsync();

        Assert.Equal("kubernetes.io/tls", material.Scheme);
        Assert.Empty(material.Problems);
    }

    [Fact]
    public async Task Requested_scheme_wins_and_missing_keys_are_reported_like_linkerd_check()
    {
        _api.SetSecret("linkerd", LinkerdIdentityObjects.IssuerSecretName, null, new Dictionary<string, string> { ["crt.pem"] = CertPem, ["key.pem"] = KeyPem });
        _api.SetConfigMap("linkerd", LinkerdIdentityObjects.TrustRootsConfigMapName, new Dictionary<string, string> { ["other"] = "x" });

        var material = await ReadAsync(scheme: "kubernetes.io/tls");

        Assert.Null(material.IssuerCertificatePem);
        Assert.Null(material.TrustAnchorsPem);
        Assert.Contains("key tls.crt containing the issuer certificate needs to exist in secret linkerd-identity-issuer if --identity-external-issuer=true", material.Problems);
        Assert.Contains("key tls.key containing the issuer private key needs to exist in secret linkerd-identity-issuer if --identity-external-issuer=true", material.Problems);
        Assert.Contains("key ca-bundle.crt containing the trust anchors needs to exist in configmap linkerd-identity-trust-roots", material.Problems);
    }

    [Fact]
    public async Task Missing_objects_are_problems_not_exceptions()
    {
        var material = await ReadAsync(ns: "elsewhere");

        Assert.Equal(
            ["secret linkerd-identity-issuer not found in namespace elsewhere", "configmap linkerd-identity-trust-roots not found in namespace elsewhere"],
            material.Problems);
    }

    [Fact]
    public async Task Forbidden_is_a_clear_read_error()
    {
        _api.ForcedStatus = HttpStatusCode.Forbidden;

        var ex = await Assert.ThrowsAsync<ClusterReadException>(() => ReadAsync());

        Assert.Equal("context west: cannot read secret linkerd/linkerd-identity-issuer: forbidden (the user of this context may not read it)", ex.Message);
    }

    [Fact]
    public void Unknown_context_is_a_clear_error()
    {
        var ex = Assert.Throws<ClusterReadException>(() => KubernetesClientFactory.CreateForContext(_kubeconfig, "east"));

        Assert.StartsWith("context 'east' does not exist in kubeconfig", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_token_is_reported_as_unauthorized()
    {
        var other = FakeKubernetesApi.WriteKubeconfig(Path.Combine(_dir, "other"), new Dictionary<string, FakeKubernetesApi> { ["west"] = _api });
        File.WriteAllText(other, File.ReadAllText(other).Replace(FakeKubernetesApi.BearerToken, "not-the-token", StringComparison.Ordinal));
        using var client = KubernetesClientFactory.CreateForContext(other, "west");

        var ex = await Assert.ThrowsAsync<ClusterReadException>(
            () => new ClusterIdentityReader(client, "west").ReadAsync("linkerd", null, TestContext.Current.CancellationToken));

        Assert.Contains("unauthorized", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_certificate_not_signed_by_the_kubeconfig_ca_is_refused()
    {
        await using var other = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);
        var path = FakeKubernetesApi.WriteKubeconfig(Path.Combine(_dir, "wrong-ca"), new Dictionary<string, FakeKubernetesApi> { ["west"] = _api });
        var ownCa = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(_api.CaCertificate.ExportCertificatePem()));
        var otherCa = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(other.CaCertificate.ExportCertificatePem()));
        File.WriteAllText(path, File.ReadAllText(path).Replace(ownCa, otherCa, StringComparison.Ordinal));
        using var client = KubernetesClientFactory.CreateForContext(path, "west");

        var ex = await Assert.ThrowsAsync<ClusterReadException>(
            () => new ClusterIdentityReader(client, "west").ReadAsync("linkerd", null, TestContext.Current.CancellationToken));

        Assert.StartsWith("context west: cannot reach the Kubernetes API to read secret linkerd/linkerd-identity-issuer", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public async Task Stopped_api_server_is_a_clear_read_error()
    {
        var stopped = await FakeKubernetesApi.StartAsync(TestContext.Current.CancellationToken);
        var path = FakeKubernetesApi.WriteKubeconfig(Path.Combine(_dir, "stopped"), new Dictionary<string, FakeKubernetesApi> { ["gone"] = stopped });
        await stopped.DisposeAsync();
        using var client = KubernetesClientFactory.CreateForContext(path, "gone");

        var ex = await Assert.ThrowsAsync<ClusterReadException>(
            () => new ClusterIdentityReader(client, "gone").ReadAsync("linkerd", null, TestContext.Current.CancellationToken));

        Assert.StartsWith("context gone: cannot reach the Kubernetes API", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_kubeconfig_file_is_a_clear_error()
    {
        var ex = Assert.Throws<ClusterReadException>(() => KubernetesClientFactory.CreateForContext(Path.Combine(_dir, "nope"), "west"));

        Assert.Equal($"kubeconfig file '{Path.Combine(_dir, "nope")}' does not exist", ex.Message);
    }

    [Fact]
    public void Malformed_kubeconfig_is_a_clear_error()
    {
        var path = Path.Combine(_dir, "broken");
        File.WriteAllText(path, "clusters: [\n  - name: x\n    cluster: {server: \n");

        var ex = Assert.Throws<ClusterReadException>(() => KubernetesClientFactory.CreateForContext(path, "west"));

        Assert.StartsWith("kubeconfig is not valid YAML", ex.Message, StringComparison.Ordinal);
    }
}
