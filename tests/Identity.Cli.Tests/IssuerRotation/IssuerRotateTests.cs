using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Models;

namespace Identity.Cli.Tests.IssuerRotation;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class IssuerRotateTests : IDisposable
{
    private readonly TempDirectory _dir = new("identity-cli-");

    public IssuerRotateTests()
    {
        IdentityCli.RunOk("cert", "create", "root.linkerd.cluster.local", _dir["root.crt"], _dir["root.key"], "--profile", "root-ca", "--no-password", "--insecure");
    }

    public void Dispose() => _dir.Dispose();

    private static string Decode(V1Secret secret, string key) => Encoding.UTF8.GetString(secret.Data[key]);

    [Fact]
    public void Rotate_prints_a_linkerd_issuer_secret_whose_issuer_chains_to_the_root()
    {
        var result = IdentityCli.RunOk("issuer", "rotate", "--ca", _dir["root.crt"], "--ca-key", _dir["root.key"]);

        var secret = KubernetesYaml.Deserialize<V1Secret>(result.Stdout);
        Assert.Equal(("v1", "Secret", "Opaque"), (secret.ApiVersion, secret.Kind, secret.Type));
        Assert.Equal(("linkerd-identity-issuer", "linkerd"), (secret.Metadata.Name, secret.Metadata.NamespaceProperty));
        Assert.Equal(["crt.pem", "key.pem"], secret.Data.Keys.Order(StringComparer.Ordinal));

        File.WriteAllText(_dir["issuer.crt"], Decode(secret, "crt.pem"));
        File.WriteAllText(_dir["issuer.key"], Decode(secret, "key.pem"));
        OpenSsl.RunOk(_dir.Path, "verify", "-CAfile", "root.crt", "issuer.crt");
        Assert.Contains("ASN1 OID: prime256v1", OpenSsl.RunOk(_dir.Path, "ec", "-in", "issuer.key", "-noout", "-text"), StringComparison.Ordinal);

        using var issuer = X509Certificate2.CreateFromPem(Decode(secret, "crt.pem"), Decode(secret, "key.pem"));
        Assert.Equal("CN=identity.linkerd.cluster.local", issuer.Subject);
        Assert.True(issuer.Extensions.OfType<X509BasicConstraintsExtension>().Single() is { CertificateAuthority: true, PathLengthConstraint: 0 });
        Assert.Equal(TimeSpan.FromHours(8760), issuer.NotAfter - issuer.NotBefore);
        Assert.Contains("New issuer: CN=identity.linkerd.cluster.local signed by CN=root.linkerd.cluster.local", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Kubernetes_scheme_writes_tls_keys_and_the_anchor_bundle_as_ca_crt()
    {
        IdentityCli.RunOk("cert", "create", "new-root", _dir["new-root.crt"], _dir["new-root.key"], "--profile", "root-ca", "--no-password", "--insecure");
        File.WriteAllText(_dir["bundle.crt"], File.ReadAllText(_dir["root.crt"]) + File.ReadAllText(_dir["new-root.crt"]));

        var result = IdentityCli.RunOk(
            "issuer", "rotate", "--ca", _dir["root.crt"], "--ca-key", _dir["root.key"], "--scheme", "kubernetes.io/tls",
            "--anchors", _dir["bundle.crt"], "-n", "mesh", "--not-after", "48h", "--subject", "issuer.west");

        var secret = KubernetesYaml.Deserialize<V1Secret>(result.Stdout);
        Assert.Equal(("kubernetes.io/tls", "mesh"), (secret.Type, secret.Metadata.NamespaceProperty));
        Assert.Equal(["ca.crt", "tls.crt", "tls.key"], secret.Data.Keys.Order(StringComparer.Ordinal));
        var anchors = new X509Certificate2Collection();
        anchors.ImportFromPem(Decode(secret, "ca.crt"));
        Assert.Equal(["CN=root.linkerd.cluster.local", "CN=new-root"], anchors.Select(c => c.Subject));
        using var issuer = X509Certificate2.CreateFromPem(Decode(secret, "tls.crt"));
        Assert.Equal(("CN=issuer.west", TimeSpan.FromHours(48)), (issuer.Subject, issuer.NotAfter - issuer.NotBefore));
    }

    [Fact]
    public void Crt_and_key_files_are_saved_key_first_with_mode_0600()
    {
        var result = IdentityCli.RunOk(
            "issuer", "rotate", "--ca", _dir["root.crt"], "--ca-key", _dir["root.key"], "--crt-file", _dir["west.crt"], "--key-file", _dir["west.key"]);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir["west.key"]));
        var secret = KubernetesYaml.Deserialize<V1Secret>(result.Stdout);
        Assert.Equal(File.ReadAllText(_dir["west.crt"]), Decode(secret, "crt.pem"));
        Assert.Equal(File.ReadAllText(_dir["west.key"]), Decode(secret, "key.pem"));

        var again = IdentityCli.Run("issuer", "rotate", "--ca", _dir["root.crt"], "--ca-key", _dir["root.key"], "--crt-file", _dir["west.crt"], "--key-file", _dir["west.key"]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, again.Stdout);
    }

    public static TheoryData<string, string[]> BadInputs => new()
    {
        { "open ", ["--ca-key", "{dir}/missing.key"] },
        { "invalid value 'spiffe' for flag '--scheme'", ["--scheme", "spiffe"] },
        { "flags '--crt-file' and '--key-file' go together", ["--crt-file", "{dir}/x.crt"] },
        { "invalid value '1d' for flag '--not-after'", ["--not-after", "1d"] },
        { "certificate is already expired", ["--not-after", "-1h"] },
        { "no such file or directory", ["--anchors", "{dir}/missing-bundle.crt"] },
        { "does not verify against", ["--anchors", "{dir}/other-root.crt"] },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_refused_with_a_message_and_prints_no_secret(string message, string[] extra)
    {
        IdentityCli.RunOk("cert", "create", "other", _dir["other-root.crt"], _dir["other-root.key"], "--profile", "root-ca", "--no-password", "--insecure");
        var args = new List<string> { "issuer", "rotate", "--ca", _dir["root.crt"] };
        if (!extra.Contains("--ca-key"))
        {
            args.AddRange(["--ca-key", _dir["root.key"]]);
        }

        args.AddRange(extra.Select(a => a.Replace("{dir}", _dir.Path, StringComparison.Ordinal)));

        var result = IdentityCli.Run([.. args]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void A_leaf_as_ca_is_refused()
    {
        IdentityCli.RunOk("cert", "create", "leaf.example", _dir["leaf.crt"], _dir["leaf.key"], "--ca", _dir["root.crt"], "--ca-key", _dir["root.key"], "--no-password", "--insecure");

        var result = IdentityCli.Run("issuer", "rotate", "--ca", _dir["leaf.crt"], "--ca-key", _dir["leaf.key"]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not a CA", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Stdout);
    }
}
