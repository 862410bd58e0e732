using System.Security.Cryptography.X509Certificates;
using Identity.Cli.Tests.Check;
using k8s;
using k8s.Models;
using static Identity.Cli.Tests.Check.CheckFixtures;

namespace Identity.Cli.Tests.Anchors;

public sealed class AnchorsBundleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("identity-anchors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static List<string> Fingerprints(string pem)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPem(pem);
        return collection.Select(Sha256).ToList();
    }

    [Fact]
    public async Task Bundle_keeps_input_order_drops_duplicates_and_prints_an_applyable_configmap()
    {
        var oldRoot = Ca.Root("root-old", notAfter: Now + TimeSpan.FromDays(100));
        var newRoot = Ca.Root("root-new");
        var oldFile = Write("old.crt", oldRoot.CertificatePem);
        var bothFile = Write("both.crt", newRoot.CertificatePem + oldRoot.CertificatePem);

        var result = await IdentityCli.RunAsync("anchors", "bundle", oldFile, bothFile);

        Assert.Equal(0, result.ExitCode);
        var configMap = KubernetesYaml.Deserialize<V1ConfigMap>(result.Stdout);
        Assert.Equal(("v1", "ConfigMap"), (configMap.ApiVersion, configMap.Kind));
        Assert.Equal(("linkerd-identity-trust-roots", "linkerd"), (configMap.Metadata.Name, configMap.Metadata.NamespaceProperty));
        var bundle = Assert.Single(configMap.Data, kv => kv.Key == "ca-bundle.crt").Value;
        Assert.Equal([Sha256(oldRoot.Certificate), Sha256(newRoot.Certificate)], Fingerprints(bundle));
        Assert.StartsWith("-----BEGIN CERTIFICATE-----\n", bundle, StringComparison.Ordinal);
        Assert.EndsWith("-----END CERTIFICATE-----", bundle, StringComparison.Ordinal);

        var stderr = result.Stderr.ReplaceLineEndings("\n");
        Assert.Contains(
            $"anchor 1: CN=root-old\n  sha256:    {Sha256(oldRoot.Certificate)}\n  not after: {CheckCommandTests.Rfc(Now.AddDays(100))} (100 days left)\n",
            stderr, StringComparison.Ordinal);
        Assert.Contains($"anchor 2: CN=root-new\n  sha256:    {Sha256(newRoot.Certificate)}\n", stderr, StringComparison.Ordinal);
        Assert.Contains($"duplicate dropped: {bothFile} certificate #2 (CN=root-old, sha256 {Sha256(oldRoot.Certificate)}) is anchor 1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Output_is_stable_and_rebundling_the_output_is_idempotent()
    {
        var a = Write("a.crt", Ca.Root("root-a").CertificatePem);
        var b = Write("b.crt", Ca.Root("root-b").CertificatePem);

        var first = await IdentityCli.RunAsync("anchors", "bundle", a, b, "--output", "pem");
        var second = await IdentityCli.RunAsync("anchors", "bundle", a, b, "-o", "pem");
        var again = await IdentityCli.RunAsync("anchors", "bundle", Write("bundle.pem", first.Stdout), b, "-o", "pem");
        var yaml1 = await IdentityCli.RunAsync("anchors", "bundle", a, b);
        var yaml2 = await IdentityCli.RunAsync("anchors", "bundle", Write("bundle2.pem", first.Stdout));

        Assert.Equal(first.Stdout, second.Stdout);
        Assert.Equal(first.Stdout, again.Stdout);
        Assert.Equal(yaml1.Stdout, yaml2.Stdout);
        Assert.Equal(2, Fingerprints(first.Stdout).Count);
    }

    [Fact]
    public async Task Non_ca_certificate_is_rejected_and_nothing_is_printed()
    {
        var root = Ca.Root();
        var leaf = Ca.Intermediate(root, "leaf", isCa: false, keyUsage: X509KeyUsageFlags.DigitalSignature);

        var result = await IdentityCli.RunAsync("anchors", "bundle", Write("root.crt", root.CertificatePem), Write("leaf.crt", leaf.CertificatePem));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Contains($"error: {Path.Combine(_dir, "leaf.crt")} (CN=leaf): not a CA certificate", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Intermediate_ca_is_rejected_as_not_self_signed()
    {
        var root = Ca.Root("root");
        var issuer = Ca.Intermediate(root);

        var result = await IdentityCli.RunAsync("anchors", "bundle", Write("issuer.crt", issuer.CertificatePem));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not self-signed (issued by CN=root)", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task Certificate_naming_itself_as_issuer_but_signed_by_another_key_is_rejected()
    {
        var root = Ca.Root("root");
        var impostor = Ca.Intermediate(root, name: "root");
        Assert.Equal(impostor.Certificate.Subject, impostor.Certificate.Issuer);

        var result = await IdentityCli.RunAsync("anchors", "bundle", Write("impostor.crt", impostor.CertificatePem));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not self-signed", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rsa_root_is_accepted()
    {
        var root = Ca.Root("rsa-root", key: TestKeyType.Rsa2048);

        var result = await IdentityCli.RunAsync("anchors", "bundle", Write("rsa.crt", root.CertificatePem), "-o", "pem");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([Sha256(root.Certificate)], Fingerprints(result.Stdout));
    }

    [Fact]
    public async Task Expired_anchor_is_kept_with_a_warning_or_dropped_with_drop_expired()
    {
        var expired = Ca.Root("root-expired", notBefore: Now + TimeSpan.FromDays(-400), notAfter: Now + TimeSpan.FromDays(-3));
        var current = Ca.Root("root-current");
        var files = new[] { Write("expired.crt", expired.CertificatePem), Write("current.crt", current.CertificatePem) };

        var kept = await IdentityCli.RunAsync(["anchors", "bundle", "-o", "pem", .. files]);
        var dropped = await IdentityCli.RunAsync(["anchors", "bundle", "-o", "pem", "--drop-expired", .. files]);

        Assert.Equal(0, kept.ExitCode);
        Assert.Equal([Sha256(expired.Certificate), Sha256(current.Certificate)], Fingerprints(kept.Stdout));
        Assert.Contains($"warning: {files[0]} (CN=root-expired) expired on {CheckCommandTests.Rfc(Now.AddDays(-3))}; kept (use --drop-expired to remove it)", kept.Stderr, StringComparison.Ordinal);
        Assert.Contains("(expired 3 days ago)", kept.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, dropped.ExitCode);
        Assert.Equal([Sha256(current.Certificate)], Fingerprints(dropped.Stdout));
        Assert.Contains($"expired anchor dropped: {files[0]} (CN=root-expired, sha256 {Sha256(expired.Certificate)})", dropped.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dropping_every_anchor_is_an_error()
    {
        var expired = Ca.Root("root-expired", notBefore: Now + TimeSpan.FromDays(-400), notAfter: Now + TimeSpan.FromDays(-3));

        var result = await IdentityCli.RunAsync("anchors", "bundle", "--drop-expired", Write("expired.crt", expired.CertificatePem));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error: no trust anchors left to bundle", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public async Task Namespace_is_used_and_validated()
    {
        var file = Write("root.crt", Ca.Root().CertificatePem);

        var ok = await IdentityCli.RunAsync("anchors", "bundle", file, "--namespace", "mesh-system");
        var bad = await IdentityCli.RunAsync("anchors", "bundle", file, "--namespace", "Bad_NS");

        Assert.Equal("mesh-system", KubernetesYaml.Deserialize<V1ConfigMap>(ok.Stdout).Metadata.NamespaceProperty);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--namespace 'Bad_NS' is not a valid namespace name", bad.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, bad.Stdout);
    }

    [Fact]
    public async Task Unknown_output_format_is_an_error_on_stderr_only()
    {
        var result = await IdentityCli.RunAsync("anchors", "bundle", Write("root.crt", Ca.Root().CertificatePem), "-o", "json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Contains("--output 'json' is not supported", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_or_empty_input_files_are_errors()
    {
        var missing = await IdentityCli.RunAsync("anchors", "bundle", Path.Combine(_dir, "nope.crt"));
        var empty = await IdentityCli.RunAsync("anchors", "bundle", Write("empty.crt", "\n"));

        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("error: cannot read", missing.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("no PEM certificate found", empty.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kubectl_reads_the_configmap_back_unchanged()
    {
        var kubectl = Environment.GetEnvironmentVariable("IDENTITY_TEST_KUBECTL") is { Length: > 0 } configured ? configured : "/usr/bin/kubectl";
        Assert.SkipUnless(File.Exists(kubectl), $"kubectl not found at {kubectl}");
        var a = Ca.Root("root-a");
        var b = Ca.Root("root-b");
        var result = await IdentityCli.RunAsync("anchors", "bundle", Write("a.crt", a.CertificatePem), Write("b.crt", b.CertificatePem));
        var kustomization = Directory.CreateDirectory(Path.Combine(_dir, "k")).FullName;
        File.WriteAllText(Path.Combine(kustomization, "trust-roots.yaml"), result.Stdout);
        File.WriteAllText(Path.Combine(kustomization, "kustomization.yaml"), "resources:\n- trust-roots.yaml\n");

        // kustomize parses with kubectl's own YAML stack (kyaml) and re-serializes: the bundle must survive intact.
        var (exit, stdout, stderr) = await ExternalTool.RunAsync(kubectl, ["kustomize", kustomization], TestContext.Current.CancellationToken);

        Assert.True(exit == 0, stderr);
        var configMap = KubernetesYaml.Deserialize<V1ConfigMap>(stdout);
        Assert.Equal("linkerd-identity-trust-roots", configMap.Metadata.Name);
        Assert.Equal(KubernetesYaml.Deserialize<V1ConfigMap>(result.Stdout).Data["ca-bundle.crt"], configMap.Data["ca-bundle.crt"]);
        Assert.Equal([Sha256(a.Certificate), Sha256(b.Certificate)], Fingerprints(configMap.Data["ca-bundle.crt"]));
    }

    [Fact]
    public async Task Openssl_verifies_an_issuer_against_the_bundle()
    {
        var oldRoot = Ca.Root("root-old");
        var newRoot = Ca.Root("root-new");
        var issuer = Ca.Intermediate(newRoot);
        var result = await IdentityCli.RunAsync("anchors", "bundle", Write("old.crt", oldRoot.CertificatePem), Write("new.crt", newRoot.CertificatePem), "-o", "pem");
        var bundle = Write("bundle.pem", result.Stdout);
        var issuerFile = Write("issuer.crt", issuer.CertificatePem);

        // -attime: the fixtures are valid around the test clock, not necessarily around today.
        var (exit, stdout, stderr) = OpenSsl.Run(
            null, "verify", "-attime", Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), "-CAfile", bundle, issuerFile);

        Assert.True(exit == 0, stdout + stderr);
        Assert.Contains(": OK", stdout, StringComparison.Ordinal);
    }
}
