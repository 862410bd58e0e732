namespace Identity.Kubernetes.Cluster;

/// <summary>
/// Names of the Kubernetes objects and keys the Linkerd control plane mounts for identity
/// (Secret <c>linkerd-identity-issuer</c>, ConfigMap <c>linkerd-identity-trust-roots</c>).
/// </summary>
public static class LinkerdIdentityObjects
{
    /// <summary>Namespace the control plane is installed into unless told otherwise.</summary>
    public const string DefaultNamespace = "linkerd";

    /// <summary>The issuer Secret, mounted at <c>/var/run/linkerd/identity/issuer</c>.</summary>
    public const string IssuerSecretName = "linkerd-identity-issuer";

    /// <summary>The trust-roots ConfigMap, the anchors the controller actually mounts (not <c>linkerd-config</c>).</summary>
    public const string TrustRootsConfigMapName = "linkerd-identity-trust-roots";

    /// <summary>The ConfigMap key holding the PEM anchor bundle.</summary>
    public const string TrustRootsKey = "ca-bundle.crt";

    /// <summary>Scheme whose Secret carries <c>crt.pem</c>/<c>key.pem</c> (rendered by the chart).</summary>
    public const string LinkerdScheme = "linkerd.io/tls";

    /// <summary>Scheme whose Secret carries <c>tls.crt</c>/<c>tls.key</c> (external issuer, e.g. cert-manager).</summary>
    public const string KubernetesScheme = "kubernetes.io/tls";

    /// <summary>Returns the certificate and key file names for a scheme, as the controller maps them.</summary>
    /// <remarks>The controller treats every scheme other than <c>linkerd.io/tls</c> as the kubernetes.io/tls layout.</remarks>
    public static (string Certificate, string Key) FileNames(string scheme) =>
        scheme == LinkerdScheme ? ("crt.pem", "key.pem") : ("tls.crt", "tls.key");
}
