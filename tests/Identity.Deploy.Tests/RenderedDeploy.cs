using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;

[assembly: AssemblyFixture(typeof(Identity.Deploy.Tests.RenderedDeploy))]

namespace Identity.Deploy.Tests;

/// <summary>
/// A temporary copy of deploy/ given the credentials `identity cert create` would write (one shared
/// root, one issuer per cluster), rendered once per test run with the real `kubectl kustomize`.
/// </summary>
public sealed class RenderedDeploy : IAsyncLifetime
{
    public static readonly string[] Clusters = ["west", "east"];

    private readonly Dictionary<string, IReadOnlyList<JsonObject>> _rendered = [];
    private readonly Dictionary<string, (string Crt, string Key)> _issuers = [];

    /// <summary>Root of the temporary copy; holds deploy/ (credentials included).</summary>
    public string WorkDir { get; } = Path.Combine(Path.GetTempPath(), "identity-deploy-tests-" + Guid.NewGuid().ToString("N"));

    public string DeployCopy => Path.Combine(WorkDir, "deploy");

    /// <summary>The shared trust-anchor bundle written to trust-roots/ca-bundle.crt.</summary>
    public string TrustBundlePem { get; private set; } = string.Empty;

    public IReadOnlyList<JsonObject> BaseDocuments { get; private set; } = [];

    public IReadOnlyList<JsonObject> Rendered(string cluster)
    {
        RequireKubectl();
        return _rendered[cluster];
    }

    public (string Crt, string Key) Issuer(string cluster) => _issuers[cluster];

    public static void RequireKubectl()
    {
        if (!Tools.HasKubectl)
        {
            Assert.Skip($"{Tools.Kubectl} is not installed: the kustomize rendering tests need it (apt-get install kubectl, or see .ci/run).");
        }
    }

    public async ValueTask InitializeAsync()
    {
        Tools.CopyDirectory(Tools.DeployDir, DeployCopy);
        RemoveLocalCredentials(DeployCopy);
        WriteCredentials();

        if (!Tools.HasKubectl)
        {
            return;
        }

        var ct = TestContext.Current.CancellationToken;
        foreach (var cluster in Clusters)
        {
            var yaml = await Tools.KustomizeAsync(Path.Combine(DeployCopy, "overlays", cluster), ct);
            _rendered[cluster] = Yaml.ParseDocuments(yaml);
        }

        BaseDocuments = Yaml.ParseDocuments(await Tools.KustomizeAsync(Path.Combine(DeployCopy, "base"), ct));
    }

    public ValueTask DisposeAsync()
    {
        if (Directory.Exists(WorkDir))
        {
            Directory.Delete(WorkDir, recursive: true);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A developer's real (git-ignored) credentials in their deploy/ must neither leak into nor decide
    /// the outcome of a test run.
    /// </summary>
    public static void RemoveLocalCredentials(string deployDir)
    {
        File.Delete(Path.Combine(deployDir, "trust-roots", "ca-bundle.crt"));
        foreach (var cluster in Clusters)
        {
            var issuerDir = Path.Combine(deployDir, "overlays", cluster, "issuer");
            if (Directory.Exists(issuerDir))
            {
                Directory.Delete(issuerDir, recursive: true);
            }
        }
    }

    private void WriteCredentials()
    {
        // The machine's clock: a real `identity serve` and real Prometheus run on these credentials.
        var pki = new TestPki(TimeProvider.System);
        var notBefore = pki.Now.AddMinutes(-5);
        var notAfter = notBefore.AddDays(2);

        using var root = pki.Root(notBefore: notBefore, notAfter: notAfter);
        TrustBundlePem = root.CertificatePem;
        File.WriteAllText(Path.Combine(DeployCopy, "trust-roots", "ca-bundle.crt"), TrustBundlePem);

        foreach (var cluster in Clusters)
        {
            using var issuer = pki.Intermediate(root, notBefore: notBefore, notAfter: notAfter.AddHours(-1), pathLength: null);

            var crt = issuer.CertificatePem;
            var key = issuer.KeyPem;
            var dir = Directory.CreateDirectory(Path.Combine(DeployCopy, "overlays", cluster, "issuer")).FullName;
            // The key first, and owner-only, as the CLI writes it.
            WritePrivate(Path.Combine(dir, "key.pem"), key);
            File.WriteAllText(Path.Combine(dir, "crt.pem"), crt);
            _issuers[cluster] = (crt, key);
        }
    }


    private static void WritePrivate(string path, string contents)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, options);
        writer.Write(contents);
    }
}
