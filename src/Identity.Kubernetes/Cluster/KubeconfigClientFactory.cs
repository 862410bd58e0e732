using k8s;
using k8s.Exceptions;

namespace Identity.Kubernetes.Cluster;

/// <summary>Builds Kubernetes API clients from a kubeconfig file and a named context, as kubectl does.</summary>
public static class KubeconfigClientFactory
{
    /// <summary>
    /// Creates a client for <paramref name="context"/> (the current context when null). The kubeconfig is
    /// <paramref name="kubeconfigPath"/>, else the files listed in <c>KUBECONFIG</c>, else <c>~/.kube/config</c>.
    /// </summary>
    /// <exception cref="ClusterReadException">The kubeconfig or the context cannot be used.</exception>
    public static IKubernetes Create(string? kubeconfigPath, string? context)
    {
        try
        {
            var files = ResolveFiles(kubeconfigPath);
            var missing = files.FirstOrDefault(f => !f.Exists);
            if (missing is not null)
            {
                throw new ClusterReadException($"kubeconfig file '{missing.FullName}' does not exist");
            }

            // KUBECONFIG may list several files; like kubectl, the first file that defines the context wins.
            var configs = files.Select(f => KubernetesClientConfiguration.LoadKubeConfig(f, useRelativePaths: true)).ToList();
            var config = context is null
                ? configs[0]
                : configs.FirstOrDefault(c => c.Contexts?.Any(x => x.Name == context) == true);
            if (config is null)
            {
                throw new ClusterReadException(
                    $"context '{context}' does not exist in kubeconfig {string.Join(", ", files.Select(f => f.FullName))}");
            }

            return new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigObject(config, context));
        }
        catch (KubeConfigException ex)
        {
            throw new ClusterReadException($"cannot use kubeconfig context '{context ?? "(current)"}': {ex.Message}", ex);
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new ClusterReadException($"kubeconfig is not valid YAML: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClusterReadException($"cannot read kubeconfig: {ex.Message}", ex);
        }
    }

    private static FileInfo[] ResolveFiles(string? kubeconfigPath)
    {
        if (!string.IsNullOrEmpty(kubeconfigPath))
        {
            return [new FileInfo(kubeconfigPath)];
        }

        var env = Environment.GetEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrEmpty(env))
        {
            return env.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(p => new FileInfo(p)).ToArray();
        }

        return [new FileInfo(KubernetesClientConfiguration.KubeConfigDefaultLocation)];
    }
}
