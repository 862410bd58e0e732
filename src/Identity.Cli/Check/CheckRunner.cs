using Identity.Kubernetes;
using Identity.Kubernetes.Cluster;

namespace Identity.Cli.Check;

/// <summary>What to check, as given on the command line.</summary>
internal sealed record CheckRequest(
    string? AnchorsFile,
    string? IssuerCertFile,
    string? IssuerKeyFile,
    string? IssuerDir,
    string? Scheme,
    IReadOnlyList<string> Contexts,
    string? Kubeconfig,
    string Namespace,
    bool Multicluster,
    int WarningDays)
{
    public bool IsCluster => Contexts.Count > 0;

    /// <summary>Returns a usage error, or null when the combination of options makes sense.</summary>
    public string? Validate()
    {
        var hasFiles = AnchorsFile is not null || IssuerCertFile is not null || IssuerKeyFile is not null || IssuerDir is not null;
        if (IsCluster && hasFiles)
        {
            return "use either local files (--anchors, --issuer-cert, --issuer-key, --issuer-dir) or --context, not both";
        }

        if (!IsCluster && Multicluster)
        {
            return "--multicluster needs two or more --context options";
        }

        if (IsCluster)
        {
            if (Multicluster && Contexts.Distinct(StringComparer.Ordinal).Count() < 2)
            {
                return "--multicluster needs two or more distinct --context options";
            }

            if (!Multicluster && Contexts.Count > 1)
            {
                return "several --context options need --multicluster";
            }

            return null;
        }

        if (IssuerDir is not null)
        {
            return IssuerCertFile is not null || IssuerKeyFile is not null
                ? "--issuer-dir cannot be combined with --issuer-cert or --issuer-key"
                : null;
        }

        var missing = new[] { ("--anchors", AnchorsFile), ("--issuer-cert", IssuerCertFile), ("--issuer-key", IssuerKeyFile) }
            .Where(x => x.Item2 is null).Select(x => x.Item1).ToList();
        return missing.Count switch
        {
            3 => "nothing to check: give --anchors, --issuer-cert and --issuer-key, or --issuer-dir, or --context",
            > 0 => $"missing {string.Join(", ", missing)}",
            _ => null,
        };
    }
}

/// <summary>Gathers the material (files or clusters) and runs the checks.</summary>
internal static class CheckRunner
{
    public static async Task<IReadOnlyList<CheckResult>> RunAsync(CheckRequest request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!request.IsCluster)
        {
            var results = IdentityChecks.Run(ReadLocal(request), IdentityChecks.Category, now, request.WarningDays, out var loaded);
            loaded?.Dispose();
            return results;
        }

        var all = new List<CheckResult>();
        var clusters = new List<(string Context, LoadedIdentity? Identity)>();
        try
        {
            foreach (var context in request.Contexts.Distinct(StringComparer.Ordinal))
            {
                var material = await ReadClusterAsync(request, context, cancellationToken);
                var category = request.Multicluster ? $"{IdentityChecks.Category} ({context})" : IdentityChecks.Category;
                all.AddRange(IdentityChecks.Run(material, category, now, request.WarningDays, out var loaded));
                clusters.Add((context, loaded));
            }

            if (request.Multicluster)
            {
                all.AddRange(MulticlusterChecks.Run(clusters, now));
            }
        }
        finally
        {
            foreach (var (_, identity) in clusters)
            {
                identity?.Dispose();
            }
        }

        return all;
    }

    private static IdentityMaterial ReadLocal(CheckRequest request)
    {
        var problems = new List<string>();
        string? anchorsFile = request.AnchorsFile;
        string certFile;
        string keyFile;
        if (request.IssuerDir is not null)
        {
            var scheme = request.Scheme ?? LinkerdIdentityObjects.LinkerdScheme;
            var (certName, keyName) = LinkerdIdentityObjects.FileNames(scheme);
            certFile = Path.Combine(request.IssuerDir, certName);
            keyFile = Path.Combine(request.IssuerDir, keyName);
            if (anchorsFile is null)
            {
                // An external (kubernetes.io/tls) issuer Secret usually carries its CA as ca.crt; linkerd check uses it.
                var caFile = Path.Combine(request.IssuerDir, "ca.crt");
                if (scheme != LinkerdIdentityObjects.LinkerdScheme && File.Exists(caFile))
                {
                    anchorsFile = caFile;
                }
                else
                {
                    problems.Add($"no trust anchors: give --anchors (for --scheme kubernetes.io/tls, {caFile} is used when it exists)");
                }
            }
        }
        else
        {
            certFile = request.IssuerCertFile!;
            keyFile = request.IssuerKeyFile!;
        }

        return new IdentityMaterial(
            anchorsFile is null ? null : ReadFile(anchorsFile, "trust anchors", problems),
            anchorsFile ?? "(none)",
            ReadFile(certFile, "issuer certificate", problems),
            certFile,
            ReadFile(keyFile, "issuer key", problems),
            keyFile,
            problems);
    }

    private static string? ReadFile(string path, string what, List<string> problems)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add($"cannot read the {what} file {path}: {ex.Message}");
            return null;
        }
    }

    private static async Task<IdentityMaterial> ReadClusterAsync(CheckRequest request, string context, CancellationToken cancellationToken)
    {
        var secretSource = $"context {context}, secret {request.Namespace}/{LinkerdIdentityObjects.IssuerSecretName}";
        var anchorsSource = $"context {context}, configmap {request.Namespace}/{LinkerdIdentityObjects.TrustRootsConfigMapName} key {LinkerdIdentityObjects.TrustRootsKey}";
        try
        {
            using var client = KubernetesClientFactory.CreateForContext(request.Kubeconfig, context);
            var material = await new ClusterIdentityReader(client, context).ReadAsync(request.Namespace, request.Scheme, cancellationToken);
            var (certKey, keyKey) = LinkerdIdentityObjects.FileNames(material.Scheme);
            return new IdentityMaterial(
                material.TrustAnchorsPem,
                anchorsSource,
                material.IssuerCertificatePem,
                $"{secretSource} key {certKey}",
                material.IssuerKeyPem,
                $"{secretSource} key {keyKey}",
                material.Problems);
        }
        catch (ClusterReadException ex)
        {
            return new IdentityMaterial(null, anchorsSource, null, secretSource, null, secretSource, [ex.Message]);
        }
    }
}
