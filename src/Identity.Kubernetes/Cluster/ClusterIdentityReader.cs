using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Identity.Kubernetes.Cluster;

/// <summary>
/// Reads the issuer Secret and the trust-roots ConfigMap that one cluster's identity controller mounts.
/// Missing objects or keys become <see cref="ClusterIdentityMaterial.Problems"/> (they are findings about the
/// cluster); failures to talk to the API become <see cref="ClusterReadException"/>.
/// </summary>
public sealed class ClusterIdentityReader
{
    private readonly IKubernetes _client;
    private readonly string _context;

    /// <summary>Creates a reader over <paramref name="client"/>; <paramref name="context"/> labels messages.</summary>
    public ClusterIdentityReader(IKubernetes client, string context)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(context);
        _client = client;
        _context = context;
    }

    /// <summary>
    /// Reads the material from <paramref name="namespace"/>. With <paramref name="scheme"/> null the scheme is
    /// detected: a Secret of type <c>kubernetes.io/tls</c>, or one holding <c>tls.crt</c> but not <c>crt.pem</c>,
    /// is <c>kubernetes.io/tls</c>; anything else is <c>linkerd.io/tls</c>.
    /// </summary>
    /// <exception cref="ClusterReadException">The API is unreachable or refused the request.</exception>
    public async Task<ClusterIdentityMaterial> ReadAsync(string @namespace, string? scheme, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(@namespace);
        var problems = new List<string>();

        var secret = await ReadOrNullAsync(
            () => _client.CoreV1.ReadNamespacedSecretAsync(LinkerdIdentityObjects.IssuerSecretName, @namespace, cancellationToken: cancellationToken),
            $"secret {@namespace}/{LinkerdIdentityObjects.IssuerSecretName}").ConfigureAwait(false);
        var configMap = await ReadOrNullAsync(
            () => _client.CoreV1.ReadNamespacedConfigMapAsync(LinkerdIdentityObjects.TrustRootsConfigMapName, @namespace, cancellationToken: cancellationToken),
            $"configmap {@namespace}/{LinkerdIdentityObjects.TrustRootsConfigMapName}").ConfigureAwait(false);

        var effectiveScheme = scheme ?? DetectScheme(secret);
        string? certificatePem = null;
        string? keyPem = null;
        if (secret is null)
        {
            problems.Add($"secret {LinkerdIdentityObjects.IssuerSecretName} not found in namespace {@namespace}");
        }
        else
        {
            var (certKey, keyKey) = LinkerdIdentityObjects.FileNames(effectiveScheme);
            certificatePem = SecretValue(secret, certKey);
            keyPem = SecretValue(secret, keyKey);
            if (certificatePem is null)
            {
                problems.Add(MissingKey(certKey, "issuer certificate", effectiveScheme));
            }

            if (keyPem is null)
            {
                problems.Add(MissingKey(keyKey, "issuer private key", effectiveScheme));
            }
        }

        string? anchorsPem = null;
        if (configMap is null)
        {
            problems.Add($"configmap {LinkerdIdentityObjects.TrustRootsConfigMapName} not found in namespace {@namespace}");
        }
        else if (configMap.Data is null
                 || !configMap.Data.TryGetValue(LinkerdIdentityObjects.TrustRootsKey, out anchorsPem)
                 || string.IsNullOrWhiteSpace(anchorsPem))
        {
            anchorsPem = null;
            problems.Add($"key {LinkerdIdentityObjects.TrustRootsKey} containing the trust anchors needs to exist in configmap {LinkerdIdentityObjects.TrustRootsConfigMapName}");
        }

        return new ClusterIdentityMaterial(_context, @namespace, effectiveScheme, certificatePem, keyPem, anchorsPem, problems);
    }

    private static string DetectScheme(V1Secret? secret)
    {
        if (secret is null)
        {
            return LinkerdIdentityObjects.LinkerdScheme;
        }

        if (string.Equals(secret.Type, LinkerdIdentityObjects.KubernetesScheme, StringComparison.Ordinal))
        {
            return LinkerdIdentityObjects.KubernetesScheme;
        }

        var data = secret.Data;
        var hasLinkerdKeys = data?.ContainsKey("crt.pem") == true;
        var hasTlsKeys = data?.ContainsKey("tls.crt") == true;
        return hasTlsKeys && !hasLinkerdKeys ? LinkerdIdentityObjects.KubernetesScheme : LinkerdIdentityObjects.LinkerdScheme;
    }

    private static string? SecretValue(V1Secret secret, string key) =>
        secret.Data is not null && secret.Data.TryGetValue(key, out var bytes) && bytes is { Length: > 0 }
            ? Encoding.UTF8.GetString(bytes)
            : null;

    // Worded like `linkerd check`, so users can search for the message they already know.
    private static string MissingKey(string key, string what, string scheme) =>
        $"key {key} containing the {what} needs to exist in secret {LinkerdIdentityObjects.IssuerSecretName} if --identity-external-issuer={(scheme != LinkerdIdentityObjects.LinkerdScheme).ToString().ToLowerInvariant()}";

    private async Task<T?> ReadOrNullAsync<T>(Func<Task<T>> read, string what)
        where T : class
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (HttpOperationException ex)
        {
            var reason = ex.Response.StatusCode switch
            {
                HttpStatusCode.Unauthorized => "unauthorized (check the credentials of this context)",
                HttpStatusCode.Forbidden => "forbidden (the user of this context may not read it)",
                _ => $"HTTP {(int)ex.Response.StatusCode} {ex.Response.ReasonPhrase}",
            };
            throw new ClusterReadException($"context {_context}: cannot read {what}: {reason}", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new ClusterReadException($"context {_context}: cannot reach the Kubernetes API to read {what}: {ex.Message}", ex);
        }
    }
}
